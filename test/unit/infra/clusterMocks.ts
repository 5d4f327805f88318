/**
 * Pulumi mocks for K3sCluster tests: records every registration (type, name,
 * inputs, provider) in order, gives the generated secrets, the ca-hash and
 * kubeconfig steps the outputs the cluster reads, and can hold chosen steps open until a test lets
 * them finish (what the engine would see as a step still running).
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostAccess } from "../../../infra/connection";
import type { ClusterHost, K3sClusterArgs } from "../../../infra/k3sCluster";

export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  provider?: string;
}

export interface ClusterMocks {
  registered: Registered[];
  /** Steps held open, by resource name: call finish() to let one complete. */
  held: Map<string, { finish: () => void }>;
  /** Waits until registrations stop arriving. */
  settle: () => Promise<void>;
}

/** What the mocks give the generated secrets and the ca-hash step. */
export const MOCK_SERVER_TOKEN = "MockServerToken0123456789abcdefghijklmnopqrstuvw";
export const MOCK_AGENT_TOKEN = "MockAgentToken0123456789abcdefghijklmnopqrstuvwx";
export const MOCK_CA_HASH = "c0ffee".padEnd(64, "0");

export function installClusterMocks(hold: (name: string) => boolean = () => false): ClusterMocks {
  const registered: Registered[] = [];
  const held = new Map<string, { finish: () => void }>();
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
        const state: Record<string, unknown> = { ...args.inputs };
        // Each generated secret gets its own value (48 letters and digits, as generatedSecret makes).
        if (args.name.endsWith("-agent-token")) state.result = MOCK_AGENT_TOKEN;
        else if (args.name.endsWith("-token")) state.result = MOCK_SERVER_TOKEN;
        if (args.name.endsWith("-kubeconfig")) state.stdout = "clusters: []\n";
        if (args.name.endsWith("-ca-hash")) {
          state.stdout = `EDGEFLEET_RESULT {"script":"ca-hash","host":"x","changed":false,"caHash":"${MOCK_CA_HASH}"}\n`;
        }
        const done = { id: `${args.name}-id`, state };
        if (!hold(args.name)) return done;
        return new Promise((resolve) => held.set(args.name, { finish: () => resolve(done) }));
      },
      call: (args) => args.inputs,
    },
    "edgefleet",
    "unit",
    false,
  );
  const settle = async () => {
    let last = -1;
    while (registered.length !== last) {
      last = registered.length;
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  return { registered, held, settle };
}

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBb4VXpFQV/j1NzNgrKk8GxNz/LyOeFqIwJjPVBkOSV";

/** A 2c4g host on a documentation address, its key pinned at the path a stack would use. */
export function clusterHost(
  name: string,
  i: number,
  role: "server" | "agent",
  extra: Partial<ClusterHost> = {},
): ClusterHost {
  const access: HostAccess = {
    name,
    address: `192.0.2.${10 + i}`,
    port: 22,
    user: "root",
    hostKey: HOST_KEY,
    hostKeyConfigPath: `edgefleet:sites[0].hosts[${i}].hostKey`,
  };
  return { access, role, size: "2c4g", ...extra };
}

/** K3sCluster args for a site `name` with placeholder artifacts (the mocks never read them). */
export function clusterArgs(name: string, hosts: ClusterHost[], extra: Partial<K3sClusterArgs> = {}): K3sClusterArgs {
  const artifact = { localPath: "/nonexistent/k3s", sha256: "0".repeat(64) };
  return {
    where: `unit/${name}`,
    site: name,
    profile: "edgeGeneral",
    hosts,
    privateKey: pulumi.secret("not-a-key"),
    version: "v1.34.2+k3s1",
    arch: "amd64",
    transport: "openssh",
    artifacts: { k3s: artifact, images: { ...artifact, fileName: "images.tar.zst" }, wasmShim: artifact },
    wasm: true,
    serviceMode: "systemd",
    agentBatchSize: 1,
    ...extra,
  };
}
