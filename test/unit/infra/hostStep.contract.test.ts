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
import { stepPayload } from "../../../lib/hostCommandRun";
import type { HostAccess } from "../../../infra/connection";
import { hostStep, uploadChecks, type HostStepArgs, type HostTransport } from "../../../infra/hostStep";
import { installClusterMocks } from "./clusterMocks";

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
  hostStep(`${transport}-${label.length}`, { ...cases[label], transport });
  await mocks.settle();
  const regs = mocks.registered;
  if (transport === "openssh") {
    const [r] = regs;
    const i = r.inputs;
    const c = reveal(i.connection);
    return {
      connection: { host: c.host, port: c.port, user: c.user, hostKey: c.hostKey, bastion: c.bastion },
      payload: stepPayload(i.create, i.environment, reveal(i.secretEnvironment)),
      uploads: (i.uploads ?? []).map((u: Any) => ({
        remotePath: u.remotePath,
        sha256: u.sha256.toLowerCase(),
        mode: u.mode ?? "0644",
      })),
      delete: i.delete === undefined ? undefined : stepPayload(i.delete, i.environment),
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
