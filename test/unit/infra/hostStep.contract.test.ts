/**
 * The host-step contract suite (issue 13): the same step declared through
 * both transports reaches the host the same way — the same connection and
 * pinned keys, the same payload on stdin (script and environment), the same
 * files with the same digests and modes, the same delete script — and every
 * secret input is a secret in what each transport registers. Under Pulumi
 * mocks: the registrations are what the engine would store and hand to the
 * providers. Each transport's behaviour against a real sshd is tested on its
 * own (lib/hostCommand.sshd.test.ts; the lab's integration tests).
 */
import * as pulumi from "@pulumi/pulumi";
import {
  controllerTimeoutSeconds,
  guardOf,
  hostWrapper,
  killAfterSeconds,
  stepPayload,
} from "../../../lib/hostCommandRun";
import { K3sCluster } from "../../../infra/k3sCluster";
import type { HostAccess } from "../../../infra/connection";
import { hostStep, uploadChecks, type HostStepArgs, type HostTransport } from "../../../infra/hostStep";
import { clusterArgs, clusterHost, installClusterMocks } from "./clusterMocks";

const SIG = "4dabf18193072939515e22adb298388d";
const mocks = installClusterMocks();
/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = Record<string, any>;

const isSecret = (v: unknown) => !!v && typeof v === "object" && (v as Any)[SIG] === "1b47061264138c4ac30d75fd1eb44270";
const reveal = (v: unknown): any => (isSecret(v) ? (v as Any).value : v);

const access: HostAccess = {
  name: "edge-a1",
  address: "192.0.2.21",
  port: 2222,
  user: "edgefleet",
  hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBb4VXpFQV/j1NzNgrKk8GxNz/LyOeFqIwJjPVBkOSV",
  hostKeyConfigPath: "edgefleet:sites[0].hosts[1].hostKey",
  bastion: {
    address: "192.0.2.1",
    port: 22,
    user: "jump",
    hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKp5nqsa0fTGOqK8rAVmZtVg4sVnXlxpLkD4S0mGpcNa",
  },
};
const SECRET = "tok3n-Value-9f8e7d6c5b4a";
// Not a key: a marker the test looks for wherever secrets may not be.
const KEY = "not-a-real-key-material";

const cases: Record<string, Omit<HostStepArgs, "transport">> = {
  "a step with environment, a secret and uploads": {
    access,
    privateKey: KEY,
    create: 'echo "configured $HOST_NAME"',
    environment: { HOST_NAME: "edge-a1", ROLE: "agent" },
    secretEnvironment: pulumi.secret({ EDGEFLEET_TOKEN: SECRET }),
    uploads: [
      { localPath: "/dev/null", remotePath: "/var/lib/edgefleet/staging/k3s", sha256: "A".repeat(64), mode: "0755" },
      { localPath: "/dev/null", remotePath: "/var/lib/edgefleet/staging/images.tar.zst", sha256: "b".repeat(64) },
    ],
  },
  "a step with a delete script and triggers": {
    access: { ...access, bastion: undefined },
    privateKey: KEY,
    create: "bash /usr/local/lib/edgefleet/install.sh",
    delete: "bash /usr/local/lib/edgefleet/uninstall.sh",
    environment: { HOST_NAME: "edge-a1" },
    triggers: ["v1.34.2+k3s1"],
  },
  "a read step with its own timeout": {
    access,
    privateKey: KEY,
    create: "cat /etc/rancher/k3s/k3s.yaml",
    captureStdout: true,
    secretStdout: true,
    lock: "shared",
    timeoutSeconds: 120,
  },
};

/** What reaches the host, as each transport's registrations say it. */
interface Effect {
  connection: Any;
  payload: string;
  uploads: { remotePath: string; sha256: string; mode: string }[];
  delete?: string;
  triggers?: unknown;
  /** Where every secret value sits: only inside secret inputs. */
  secretsOnlyInSecrets: boolean;
}

function leaksOutsideSecrets(v: unknown): boolean {
  if (isSecret(v)) return false;
  if (typeof v === "string") return v.includes(SECRET) || v.includes("not-a-real-key");
  if (v && typeof v === "object") return Object.values(v).some(leaksOutsideSecrets);
  return false;
}

async function effectOf(transport: HostTransport, label: string): Promise<Effect> {
  mocks.registered.length = 0;
  // One name for both: it is part of what reaches the host (the step's name in the host lock).
  hostStep(`step-${label.length}`, { ...cases[label], transport });
  await mocks.settle();
  const regs = mocks.registered;
  if (transport === "openssh") {
    const [r] = regs;
    const i = r.inputs;
    const c = reveal(i.connection);
    return {
      connection: { host: c.host, port: c.port, user: c.user, hostKey: c.hostKey, bastion: c.bastion },
      // As the runtime builds it (lib/hostCommandRun.ts runStep), minus what
      // only it adds when the step runs (the controller's clock and name).
      payload: stepPayload(i.create, i.environment, reveal(i.secretEnvironment), guardOf(i)),
      uploads: (i.uploads ?? []).map((u: Any) => ({
        remotePath: u.remotePath,
        sha256: u.sha256.toLowerCase(),
        mode: u.mode ?? "0644",
      })),
      delete: i.delete === undefined ? undefined : stepPayload(i.delete, i.environment, {}, guardOf(i)),
      triggers: i.triggers,
      secretsOnlyInSecrets: !regs.some((x) => leaksOutsideSecrets(x.inputs)),
    };
  }
  const step = regs.find((x) => x.type === "command:remote:Command" && x.inputs.create === "bash -s")!;
  const copies = regs.filter((x) => x.type === "command:remote:CopyToRemote");
  const c = reveal(step.inputs.connection);
  const uploads = copies.map((x) => {
    const remotePath = x.inputs.remotePath as string;
    const check = new RegExp(`chmod (\\d+) '${remotePath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}'`).exec(
      reveal(step.inputs.stdin),
    );
    return { remotePath, sha256: x.inputs.triggers[0], mode: check ? check[1] : "?" };
  });
  const del = step.inputs.delete as string | undefined;
  return {
    connection: {
      host: c.host,
      port: c.port,
      user: c.user,
      hostKey: c.hostKey,
      bastion: c.proxy
        ? { host: c.proxy.host, port: c.proxy.port, user: c.proxy.user, hostKey: c.proxy.hostKey }
        : undefined,
    },
    // The standard transport checks its uploads on the host inside the payload; the built-in one before it.
    payload: cases[label].uploads
      ? reveal(step.inputs.stdin).replace(`${uploadChecks(cases[label].uploads!)}\n`, "")
      : reveal(step.inputs.stdin),
    uploads,
    delete:
      del === undefined
        ? undefined
        : /^bash -s <<'__EDGEFLEET_DELETE__'\n([\s\S]*)__EDGEFLEET_DELETE__\n$/.exec(del)![1],
    triggers: step.inputs.triggers,
    secretsOnlyInSecrets: !regs.some((x) => leaksOutsideSecrets(x.inputs)),
  };
}

describe.each(Object.keys(cases))("%s", (label) => {
  it("reaches the host the same way through both transports", async () => {
    const builtIn = await effectOf("openssh", label);
    const standard = await effectOf("command", label);
    expect(standard).toEqual(builtIn);
    expect(builtIn.secretsOnlyInSecrets).toBe(true);
    expect(builtIn.connection.host).toBe(access.address);
  });
});

describe("the host-side wrapper (lib/hostStep.sh)", () => {
  it("is in both transports' payloads, the create and the delete, with the step's name, lock and timeout", async () => {
    const wrapper = hostWrapper();
    // Its own settings and its last line: a truncated or reordered wrapper fails here.
    expect(wrapper).toContain("set -euo pipefail");
    expect(wrapper.trimEnd().endsWith("ef_main; exit")).toBe(true);
    for (const label of Object.keys(cases)) {
      const c = cases[label];
      const timeout = c.timeoutSeconds ?? 900;
      const settings = [
        `EDGEFLEET_STEP='unit/step-${label.length}'`,
        `EDGEFLEET_LOCK=${c.lock ?? "exclusive"}`,
        `EDGEFLEET_TIMEOUT=${timeout}`,
        `EDGEFLEET_KILL_AFTER=${killAfterSeconds(timeout)}`,
      ].join("\n");
      for (const transport of ["openssh", "command"] as const) {
        const e = await effectOf(transport, label);
        for (const payload of [e.payload, e.delete].filter((p): p is string => p !== undefined)) {
          expect(payload.startsWith(`${settings}\n`)).toBe(true);
          expect(payload).toContain(`\n${wrapper}__edgefleet_step() {\n`);
          // The step (its secrets with it) comes after the wrapper's last line:
          // the shell that runs the wrapper never reads it.
          const end = payload.indexOf(wrapper) + wrapper.length;
          if (payload.includes(SECRET)) expect(payload.indexOf(SECRET)).toBeGreaterThan(end);
          expect(payload.indexOf(`${c.create}\n`, end) > 0 || payload.indexOf(`${c.delete}\n`, end) > 0).toBe(true);
        }
      }
    }
  });

  it("gives the controller's own timeout room past the host's deadline and kill", () => {
    for (const t of [1, 5, 60, 900, 3600]) {
      expect(killAfterSeconds(t)).toBeGreaterThanOrEqual(1);
      expect(killAfterSeconds(t)).toBeLessThanOrEqual(10);
      expect(controllerTimeoutSeconds(t)).toBeGreaterThanOrEqual(t + killAfterSeconds(t) + 10);
    }
  });

  it("refuses a lock mode or a timeout the wrapper does not know", () => {
    expect(() => stepPayload("true", {}, {}, { lock: "sometimes" as never })).toThrow(/invalid host lock/);
    expect(() => stepPayload("true", {}, {}, { timeoutSeconds: 0 })).toThrow(/invalid timeoutSeconds/);
    expect(() => stepPayload("true", {}, {}, { timeoutSeconds: 1.5 })).toThrow(/invalid timeoutSeconds/);
  });

  it.each(["openssh", "command"] as const)(
    "gives each step of a cluster its lock through %s: changes exclusive, reads shared, readiness none",
    async (transport) => {
      mocks.registered.length = 0;
      new K3sCluster(
        "site",
        clusterArgs("site", [clusterHost("s1", 0, "server"), clusterHost("a1", 1, "agent")], { transport }),
      );
      await mocks.settle();
      const lockOf = (suffix: string): string => {
        // The step itself: a HostCommand or a remote.Command (not its uploads' -dirs step).
        const r = mocks.registered.find((x) => x.name.endsWith(suffix) && x.inputs.create !== undefined);
        if (!r) throw new Error(`no step ${suffix}`);
        if (transport === "openssh") return r.inputs.lock ?? "exclusive";
        return /^EDGEFLEET_LOCK=(\w+)$/m.exec(reveal(r.inputs.stdin))![1];
      };
      expect({
        preflight: lockOf("-a1-preflight"),
        install: lockOf("-a1-install"),
        configure: lockOf("-a1-configure"),
        service: lockOf("-a1-service"),
        ready: lockOf("-a1-ready"),
        kubeconfig: lockOf("-kubeconfig"),
      }).toEqual({
        preflight: "shared",
        install: "exclusive",
        configure: "exclusive",
        service: "exclusive",
        ready: "none",
        kubeconfig: "shared",
      });
    },
  );
});

describe("the standard transport", () => {
  it("keeps logs off for a step with secrets, and on for one without", async () => {
    mocks.registered.length = 0;
    hostStep("s1", { ...cases["a step with environment, a secret and uploads"], transport: "command" });
    hostStep("s2", { ...cases["a step with a delete script and triggers"], transport: "command" });
    await mocks.settle();
    const logging = (n: string) => mocks.registered.find((r) => r.name === n)!.inputs.logging;
    expect([logging("s1"), logging("s2")]).toEqual(["none", "stdoutAndStderr"]);
  });

  it("refuses a delete script together with secrets, on both transports", () => {
    for (const transport of ["command", "openssh"] as const) {
      expect(() =>
        hostStep("bad", {
          ...cases["a step with a delete script and triggers"],
          secretEnvironment: { S: SECRET },
          transport,
        }),
      ).toThrow(/a step with a delete script carries no secret environment/);
    }
  });
});
