/**
 * Node labels are owned through the API as well as given at registration:
 * K3s applies node-label only when a node first joins, so without this a
 * label edited in the inventory would never reach the node.
 */
import { K3sCluster } from "../../../infra/k3sCluster";
import { clusterArgs, clusterHost, installClusterMocks } from "./clusterMocks";

const { registered, settle } = installClusterMocks();
const taints = [{ key: "edge", value: "true", effect: "NoSchedule" as const }];

function site(name: string, disableAgentOnServers: boolean): void {
  new K3sCluster(
    name,
    clusterArgs(
      name,
      [
        clusterHost("s1", 0, "server", { taints }),
        clusterHost("a1", 1, "agent", { labels: { "edgefleet.dev/city-tier": "1" }, taints }),
      ],
      { profile: "retailCity", disableAgentOnServers },
    ),
  );
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
    // The first cluster under the mocks pays Pulumi's cold start: about 4 s alone on 2 cores, near jest's 5 s default.
  }, 60_000);

  it("labels the servers of a site without agents node-type=edge: they run its trackers", async () => {
    new K3sCluster("solo", clusterArgs("solo", [clusterHost("s1", 0, "server")], { profile: "factoryIiot" }));
    await settle();
    const [server] = patches("solo");
    expect(server.inputs.metadata.labels["node-type"]).toBe("edge");
    // And gets the tracker's host directory (factory SQLite), as an agent would.
    const install = registered.find((r) => r.name === "solo-s1-install");
    expect(JSON.stringify(install?.inputs ?? {})).toContain("/var/lib/industrial-iot");
  });

  it("skips servers that run no kubelet (no Node object to label)", async () => {
    site("cp", true);
    await settle();
    expect(patches("cp").map((p) => p.name)).toEqual(["cp-a1-labels"]);
  });
});
