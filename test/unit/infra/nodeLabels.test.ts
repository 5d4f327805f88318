/**
 * Node labels are owned through the API as well as given at registration:
 * K3s applies node-label only when a node first joins, so without this a
 * label edited in the inventory would never reach the node.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostAccess } from "../../../infra/connection";
import { K3sCluster, type ClusterHost } from "../../../infra/k3sCluster";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  provider?: string;
}
const registered: Registered[] = [];

pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.name.endsWith("-token")) state.result = "MockToken0123456789abcdefghijklmnopqrstuvwxyzAB";
      if (args.name.endsWith("-kubeconfig")) state.stdout = "clusters: []\n";
      return { id: `${args.name}-id`, state };
    },
    call: (args) => args.inputs,
  },
  "edgefleet",
  "unit",
  false,
);

async function settle(): Promise<void> {
  let last = -1;
  while (registered.length !== last) {
    last = registered.length;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBb4VXpFQV/j1NzNgrKk8GxNz/LyOeFqIwJjPVBkOSV";
function host(name: string, i: number, role: "server" | "agent", labels?: Record<string, string>): ClusterHost {
  const access: HostAccess = {
    name,
    address: `192.0.2.${10 + i}`,
    port: 22,
    user: "root",
    hostKey: key,
    hostKeyConfigPath: `edgefleet:sites[0].hosts[${i}].hostKey`,
  };
  return { access, role, size: "2c4g", labels, taints: [{ key: "edge", value: "true", effect: "NoSchedule" }] };
}

const artifact = { localPath: "/nonexistent/k3s", sha256: "0".repeat(64) };
function site(name: string, disableAgentOnServers: boolean): void {
  new K3sCluster(name, {
    where: `unit/${name}`,
    site: name,
    profile: "retailCity",
    hosts: [host("s1", 0, "server"), host("a1", 1, "agent", { "edgefleet.dev/city-tier": "1" })],
    privateKey: pulumi.secret("not-a-key"),
    version: "v1.34.2+k3s1",
    artifacts: { k3s: artifact, images: { ...artifact, fileName: "images.tar.zst" }, wasmShim: artifact },
    wasm: true,
    serviceMode: "systemd",
    disableAgentOnServers,
    agentBatchSize: 1,
  });
}

const patches = (prefix: string) =>
  registered.filter((r) => r.type === "kubernetes:core/v1:NodePatch" && r.name.startsWith(`${prefix}-`));

describe("K3sCluster node labels", () => {
  it("patches every kubelet's labels (computed and inventory) on the site's own provider, after its host", async () => {
    site("full", false);
    await settle();
    const ps = patches("full");
    expect(ps.map((p) => p.name).sort()).toEqual(["full-a1-labels", "full-s1-labels"]);
    const agent = ps.find((p) => p.name === "full-a1-labels")!;
    expect(agent.inputs.metadata.name).toBe("a1");
    expect(agent.inputs.metadata.labels).toEqual({
      "edgefleet.dev/city-tier": "1",
      "edgefleet.dev/profile": "retailCity",
      "edgefleet.dev/site": "full",
      "edgefleet.dev/wasm": "true",
      "node-type": "edge",
    });
    // Taken over from the registering kubelet, which owned them first.
    expect(agent.inputs.metadata.annotations["pulumi.com/patchForce"]).toBe("true");
    const server = ps.find((p) => p.name === "full-s1-labels")!;
    expect(server.inputs.metadata.labels["node-type"]).toBeUndefined();
    for (const p of ps) expect(p.provider).toContain("pulumi:providers:kubernetes::full-k8s");
    // Taints are left to registration (an atomic list the node controller writes too).
    for (const p of ps) expect(p.inputs.spec).toBeUndefined();
  });

  it("skips servers that run no kubelet (no Node object to label)", async () => {
    site("cp", true);
    await settle();
    expect(patches("cp").map((p) => p.name)).toEqual(["cp-a1-labels"]);
  });
});
