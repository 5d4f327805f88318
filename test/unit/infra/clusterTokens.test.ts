/**
 * A K3s site's join secrets under Pulumi mocks: what each host's configure
 * step receives (the agent never the server token), the ca-hash step on the
 * first server with a secret stdout, the save-bootstrap step on the last
 * server after every host, and what raising agentTokenGeneration replaces.
 * What reaches a host is read from the registrations, secrets revealed, on
 * both transports.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostTransport } from "../../../infra/hostStep";
import { caHashFrom, caHashStep } from "../../../infra/clusterTokens";
import { K3sCluster } from "../../../infra/k3sCluster";
import {
  clusterArgs,
  clusterHost,
  installClusterMocks,
  MOCK_AGENT_TOKEN,
  MOCK_CA_HASH,
  MOCK_SERVER_TOKEN,
  type Registered,
} from "./clusterMocks";

const { registered, settle } = installClusterMocks();
/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = Record<string, any>;
const SIG = "4dabf18193072939515e22adb298388d";
const isSecret = (v: unknown) => !!v && typeof v === "object" && (v as Any)[SIG] === "1b47061264138c4ac30d75fd1eb44270";
const reveal = (v: unknown): any => (isSecret(v) ? (v as Any).value : v);
/** Every string of a registration's inputs, secrets revealed. */
function strings(v: unknown): string[] {
  const x = reveal(v);
  if (typeof x === "string") return [x];
  if (x && typeof x === "object") return Object.values(x).flatMap(strings);
  return [];
}
/** Whether a value appears outside a secret anywhere in the inputs. */
function inPlain(v: unknown, needle: string): boolean {
  if (isSecret(v)) return false;
  if (typeof v === "string") return v.includes(needle);
  if (v && typeof v === "object") return Object.values(v).some((x) => inPlain(x, needle));
  return false;
}

// An HA site: three servers, two agents; the second site has one server and one agent.
const HA = [
  clusterHost("s1", 0, "server"),
  clusterHost("s2", 1, "server"),
  clusterHost("s3", 2, "server"),
  clusterHost("a1", 3, "agent"),
  clusterHost("a2", 4, "agent"),
];
const address = (name: string) => HA.find((h) => h.access.name === name)!.access.address;

async function build(transport: HostTransport, extra: Record<string, unknown> = {}): Promise<Registered[]> {
  registered.length = 0;
  new K3sCluster("ha", clusterArgs("ha", HA, { transport, ...extra }));
  await settle();
  return [...registered];
}

/** The host a registration talks to: its connection's address. */
function hostOf(r: Registered): string | undefined {
  const c = reveal(r.inputs.connection);
  return c?.host;
}

/** What a configure step hands the host's configure.sh as secret environment. */
function configureSecrets(regs: Registered[], transport: HostTransport, host: string): Record<string, string> {
  const name = `ha-${host}-configure`;
  const r = regs.find((x) => x.name === name)!;
  if (transport === "openssh") return reveal(r.inputs.secretEnvironment);
  // The standard transport: the payload on stdin exports each variable.
  const stdin: string = reveal(r.inputs.stdin);
  const out: Record<string, string> = {};
  for (const m of stdin.matchAll(/^export (EDGEFLEET_[A-Z_]*TOKEN)='([^']*)'$/gm)) out[m[1]] = m[2];
  return out;
}

const pinned = (user: string, secret: string) => `K10${MOCK_CA_HASH}::${user}:${secret}`;

jest.setTimeout(120_000);

describe.each<HostTransport>(["openssh", "command"])("join secrets through the %s transport", (transport) => {
  let regs: Registered[];
  beforeAll(async () => {
    regs = await build(transport);
  });

  it("gives the first server the bare secrets, joining servers and agents the forms that pin the CA", () => {
    expect(configureSecrets(regs, transport, "s1")).toEqual({
      EDGEFLEET_TOKEN: MOCK_SERVER_TOKEN,
      EDGEFLEET_AGENT_TOKEN: MOCK_AGENT_TOKEN,
    });
    for (const s of ["s2", "s3"]) {
      expect(configureSecrets(regs, transport, s)).toEqual({
        EDGEFLEET_TOKEN: pinned("server", MOCK_SERVER_TOKEN),
        EDGEFLEET_AGENT_TOKEN: pinned("node", MOCK_AGENT_TOKEN),
      });
    }
    for (const a of ["a1", "a2"]) {
      expect(configureSecrets(regs, transport, a)).toEqual({ EDGEFLEET_TOKEN: pinned("node", MOCK_AGENT_TOKEN) });
    }
  });

  it("never gives an agent the server token, in any step that reaches it", () => {
    for (const a of ["a1", "a2"]) {
      const reaching = regs.filter((r) => hostOf(r) === address(a));
      expect(reaching.map((r) => r.name)).toContain(`ha-${a}-configure`);
      for (const r of reaching) expect(strings(r.inputs).join("\n")).not.toContain(MOCK_SERVER_TOKEN);
      // Nor its config.yaml: agents name no agent-token-file (servers' do).
      const conf = (h: string) => strings(regs.find((r) => r.name === `ha-${h}-configure`)!.inputs).join("\n");
      expect(conf(a)).not.toContain('agent-token-file: "/');
      expect(conf("s2")).toContain('agent-token-file: "/etc/rancher/k3s/edgefleet-agent-token"');
    }
  });

  it("keeps both secrets out of every plain input of every registration", () => {
    for (const r of regs) {
      expect([r.name, inPlain(r.inputs, MOCK_SERVER_TOKEN)]).toEqual([r.name, false]);
      expect([r.name, inPlain(r.inputs, MOCK_AGENT_TOKEN)]).toEqual([r.name, false]);
    }
  });

  it("reads the CA hash on the first server, after it runs, with its stdout secret", () => {
    const at = (n: string) => regs.findIndex((r) => r.name === n);
    const step = regs.find(
      (r) => r.name === "ha-ca-hash" && (transport === "openssh" || r.inputs.create === "bash -s"),
    )!;
    expect(hostOf(step)).toBe(address("s1"));
    expect(at("ha-ca-hash")).toBeGreaterThan(at("ha-s1-ready"));
    expect(at("ha-ca-hash")).toBeLessThan(at("ha-s2-configure"));
    if (transport === "openssh") {
      expect(step.inputs.captureStdout).toBe(true);
      expect(step.inputs.secretStdout).toBe(true);
    } else {
      // The standard transport keeps a secret stdout out of its logs.
      expect(step.inputs.logging).toBe("none");
    }
  });

  it("saves the bootstrap data on the last server, with the bare server token, after every host", () => {
    const at = (n: string) => regs.findIndex((r) => r.name === n);
    const step = regs.find(
      (r) => r.name === "ha-bootstrap-save" && (transport === "openssh" || r.inputs.create === "bash -s"),
    )!;
    expect(hostOf(step)).toBe(address("s3"));
    expect(at("ha-bootstrap-save")).toBeGreaterThan(at("ha-a2-ready"));
    expect(at("ha-bootstrap-save")).toBeGreaterThan(at("ha-s3-ready"));
    const text = strings(step.inputs).join("\n");
    expect(text).toContain(MOCK_SERVER_TOKEN);
    expect(text).not.toContain(MOCK_AGENT_TOKEN);
    expect(text).not.toContain(pinned("server", MOCK_SERVER_TOKEN));
  });
});

describe("the ca-hash step's output", () => {
  it("is a secret, on both transports", async () => {
    for (const transport of ["openssh", "command"] as const) {
      const via = { transport, access: HA[0].access, privateKey: pulumi.secret("k") };
      const hash = caHashFrom(caHashStep(`solo-${transport}-ca-hash`, via, {}), "s1");
      expect(await pulumi.isSecret(hash)).toBe(true);
      const value = await new Promise((resolve) => hash.apply(resolve));
      expect(value).toBe(MOCK_CA_HASH);
    }
  });
});

describe("rotating the agent token (agentTokenGeneration)", () => {
  let before: Registered[];
  let after: Registered[];
  beforeAll(async () => {
    before = await build("openssh");
    after = await build("openssh", { agentTokenGeneration: 1 });
  });
  const inputs = (regs: Registered[], name: string) => regs.find((r) => r.name === name)!.inputs;

  it("replaces the agent token secret and leaves the server token's resource exactly as it was", () => {
    expect(inputs(before, "ha-agent-token").keepers).toEqual({ generation: "0" });
    expect(inputs(after, "ha-agent-token").keepers).toEqual({ generation: "1" });
    // No keepers, the inputs the one join token always had: an existing stack keeps its server token.
    expect(inputs(before, "ha-token").keepers).toBeUndefined();
    expect(inputs(after, "ha-token")).toEqual(inputs(before, "ha-token"));
    expect(inputs(before, "ha-token").length).toBe(48);
  });

  it("restarts every host (its service digest changes) and saves the bootstrap data again", () => {
    for (const h of HA.map((x) => x.access.name)) {
      const applied = (regs: Registered[]) => inputs(regs, `ha-${h}-service`).environment.EDGEFLEET_APPLIED;
      expect([h, applied(after)]).not.toEqual([h, applied(before)]);
    }
    expect(inputs(before, "ha-bootstrap-save").environment.AGENT_TOKEN_EPOCH).toBe("agent-token-0");
    expect(inputs(after, "ha-bootstrap-save").environment.AGENT_TOKEN_EPOCH).toBe("agent-token-1");
  });

  it("changes no host's install, config.yaml or ca-hash step", () => {
    for (const h of HA.map((x) => x.access.name)) {
      expect(inputs(after, `ha-${h}-install`)).toEqual(inputs(before, `ha-${h}-install`));
      expect(inputs(after, `ha-${h}-configure`).environment).toEqual(inputs(before, `ha-${h}-configure`).environment);
    }
    expect(inputs(after, "ha-ca-hash")).toEqual(inputs(before, "ha-ca-hash"));
  });

  it("refuses a generation that is not a whole number of at least 0", () => {
    for (const g of [-1, 1.5]) {
      expect(
        () => new K3sCluster(`bad${String(g).replace(/\W/g, "")}`, clusterArgs("bad", HA, { agentTokenGeneration: g })),
      ).toThrow(/agentTokenGeneration must be a whole number of at least 0/);
    }
  });
});
