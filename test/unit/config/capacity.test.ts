/**
 * The site capacity model (config/capacity.ts): the scheduler's filters,
 * the tracker's one-per-node spread, both creation orders, and Gatekeeper's
 * pods modelled from its arguments as the upstream manifest really has them.
 */
import * as fs from "fs";
import { mayRunOn, podGroupOf, siteCapacity, tolerates, type PodGroup } from "../../../config/capacity";
import { uniformEdgeNodes, type SchedulingNode } from "../../../config/edgeNodes";
import { localGatekeeperManifest } from "../../../components/gatekeeperManifest";
import { PROFILES } from "../../../config/profiles";
import { gatekeeperPodGroups, transformGatekeeper } from "../../../components/render/gatekeeper";
import { planSite } from "../../../components/render/site";
import { pulumiTypeOf, workloadOf } from "../../../policies/crossguard/lib/workload";

const node = (
  name: string,
  cpuMillis: number,
  memoryMiB: number,
  extra: Partial<SchedulingNode> = {},
): SchedulingNode => ({
  name,
  labels: { "node-type": "edge", ...(extra.labels ?? {}) },
  taints: extra.taints ?? [],
  allocatable: { cpuMillis, memoryMiB },
});

const group = (name: string, cpuMillis: number, memoryMiB: number, extra: Partial<PodGroup> = {}): PodGroup => ({
  name,
  replicas: 1,
  requests: { cpuMillis, memoryMiB },
  limits: { cpuMillis, memoryMiB },
  nodeSelector: {},
  tolerations: [],
  spreadPerNode: false,
  ...extra,
});

const trackers = (replicas: number, cpuMillis = 100, memoryMiB = 100): PodGroup =>
  group("Deployment edgefleet/tracker", cpuMillis, memoryMiB, {
    replicas,
    tracker: true,
    spreadPerNode: true,
    nodeSelector: { "node-type": "edge" },
  });

describe("the scheduler's filters", () => {
  it("matches tolerations as Kubernetes does", () => {
    const t = { key: "dedicated", value: "pos", effect: "NoSchedule" as const };
    expect(tolerates([{ operator: "Exists" }], t)).toBe(true);
    expect(tolerates([{ key: "dedicated", operator: "Exists" }], t)).toBe(true);
    expect(tolerates([{ key: "dedicated", value: "pos" }], t)).toBe(true);
    expect(tolerates([{ key: "dedicated", value: "other" }], t)).toBe(false);
    expect(tolerates([{ key: "dedicated", operator: "Exists", effect: "NoExecute" }], t)).toBe(false);
    expect(tolerates([], t)).toBe(false);
  });

  it("keeps pods off NoSchedule and NoExecute taints and non-matching labels, not off PreferNoSchedule", () => {
    const g = trackers(1);
    expect(mayRunOn(g, node("a", 1, 1))).toBe(true);
    expect(mayRunOn(g, node("a", 1, 1, { labels: { "node-type": "server" } }))).toBe(false);
    expect(mayRunOn(g, node("a", 1, 1, { taints: [{ key: "x", effect: "NoExecute" }] }))).toBe(false);
    expect(mayRunOn(g, node("a", 1, 1, { taints: [{ key: "x", effect: "PreferNoSchedule" }] }))).toBe(true);
  });
});

describe("trackers spread one per node (maxSkew 1, DoNotSchedule)", () => {
  it("a node the platform fills caps every other node at one more tracker than it holds", () => {
    // The platform (1500m) lands on one of the three nodes; that node then holds 1 tracker, the others 2 each.
    const nodes = [node("a", 1650, 4000), node("b", 1650, 4000), node("c", 1650, 4000)];
    const r = siteCapacity(nodes, [group("StatefulSet m/prometheus", 1500, 100), trackers(5)]);
    expect(r.maxTrackerReplicas).toBe(5);
    expect(r.ok).toBe(true);
    const over = siteCapacity(nodes, [group("StatefulSet m/prometheus", 1500, 100), trackers(6)]);
    expect(over.problems).toEqual([expect.objectContaining({ kind: "replicas", replicas: 6, max: 5 })]);
    // Without the spread, 1 + 16 + 16 would fit after the platform; but created first, trackers
    // land on the least allocated nodes and leave none with the platform's 1500m: 5 again.
    const loose = siteCapacity(nodes, [
      group("StatefulSet m/prometheus", 1500, 100),
      { ...trackers(6), spreadPerNode: false },
    ]);
    expect(loose.maxTrackerReplicas).toBe(5);
  });

  it("the ceiling is what placing trackers one by one reaches, on random sites", () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let k = 0; k < 40; k++) {
      const nodes = Array.from({ length: 1 + rand(5) }, (_, i) => node(`n${i}`, 500 + rand(3000), 1000 + rand(6000)));
      const platform = Array.from({ length: rand(4) }, (_, i) =>
        group(`Deployment p/${i}`, 50 + rand(900), 50 + rand(1500)),
      );
      const t = trackers(0, 50 + rand(300), 50 + rand(400));
      const max = siteCapacity(nodes, [...platform, t]).maxTrackerReplicas;
      if (!siteCapacity(nodes, [...platform, t], 0).ok) continue;
      expect(siteCapacity(nodes, [...platform, t], max).ok).toBe(true);
      expect(siteCapacity(nodes, [...platform, t], max + 1).problems.map((p) => p.kind)).toEqual(["replicas"]);
    }
  });
});

describe("per-node problems", () => {
  it("names a pod larger than any node, limits above a node, and a group no node admits", () => {
    const nodes = [node("a", 1650, 3128)];
    const kinds = (gs: PodGroup[]) => siteCapacity(nodes, gs).problems.map((p) => p.kind);
    expect(kinds([group("Deployment x/big", 2000, 100)])).toEqual(["too-big", "limits"]);
    expect(kinds([group("Deployment x/lim", 100, 100, { limits: { cpuMillis: 2000, memoryMiB: 100 } })])).toEqual([
      "limits",
    ]);
    expect(kinds([trackers(1), group("Deployment x/gw", 10, 10, { nodeSelector: { role: "gateway" } })])).toEqual([
      "no-node",
    ]);
  });

  it("counts a DaemonSet once per node it may run on", () => {
    const nodes = uniformEdgeNodes(3, "2c4g", "s", "factoryIiot");
    const ds = group("DaemonSet m/shipper", 20, 32, { replicas: "per-node" });
    expect(siteCapacity(nodes, [ds]).requested).toEqual({ cpuMillis: 60, memoryMiB: 96 });
  });
});

describe("Gatekeeper's pods, modelled from its arguments", () => {
  it("are exactly what the transformed upstream manifest's Deployments create", () => {
    const a = planSite({ site: "s", profile: PROFILES["retailCity"], edgeNodes: 1 }).gatekeeper;
    const objs = transformGatekeeper(fs.readFileSync(localGatekeeperManifest(), "utf8"), {
      ...a,
      controllerReplicas: 2,
    });
    const fromManifest = objs
      .filter((o) => o.kind === "Deployment")
      .map((o) => podGroupOf(workloadOf(pulumiTypeOf(o), o)!, new Map()));
    const byName = (x?: PodGroup, y?: PodGroup) => (x!.name < y!.name ? -1 : 1);
    expect(fromManifest.sort(byName)).toEqual(gatekeeperPodGroups({ ...a, controllerReplicas: 2 }).sort(byName));
  });
});
