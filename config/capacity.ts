/**
 * Site capacity: whether a site's pods fit the nodes it will have. One model,
 * used by validate() (before anything is declared), by the site layer (which
 * sizes the tracker HPA from it) and by CrossGuard's edge-capacity rule (on
 * the workloads a preview would create), so the three cannot disagree.
 *
 * Input: nodes with the labels, taints and allocatable the host layer gives
 * them (config/edgeNodes.ts), and pod groups as the scheduler sees them
 * (container requests plus the RuntimeClass's podFixed overhead, the
 * RuntimeClass's nodeSelector merged into the pod's, tolerations, the
 * tracker's one-per-hostname spread). The placement is a model of
 * kube-scheduler's defaults: a pod may go where its nodeSelector matches,
 * every NoSchedule/NoExecute taint is tolerated and its requests fit; among
 * those, the least allocated node; a spread pod (maxSkew 1 over hostnames,
 * DoNotSchedule, taints honoured) only on a node holding the fewest of its
 * group among the nodes it may run on. DaemonSet pods take their node first
 * (they preempt trackers, components/render/priorityClass.ts). The other
 * pods are placed largest first, and both orders are tried: platform then
 * trackers, and trackers then platform, since a site's workloads are created
 * side by side and either may come first.
 *
 * Kept loadable by Node's type stripping (imports of types say `type`).
 */
import type { Taint } from "./schema";
import type { Resources } from "./sizeClasses";
import type { SchedulingNode } from "./edgeNodes";
import { parseCpuMillis, parseMemoryMiB } from "./quantity";
import type { Obj, Workload } from "../policies/crossguard/lib/workload";

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

/** Pods of one workload as the scheduler sees them. */
export interface PodGroup {
  /** `<Kind> <namespace>/<name>`, for messages. */
  name: string;
  /** Pods to place; "per-node" for a DaemonSet (one on every node it may run on). */
  replicas: number | "per-node";
  /** Per pod: containers summed (init containers at their peak) plus the RuntimeClass overhead. */
  requests: Resources;
  /** Per pod: the containers' limits summed (what the max-limits policy sums). */
  limits: Resources;
  /** The pod's nodeSelector with its RuntimeClass's merged in. */
  nodeSelector: Record<string, string>;
  tolerations: Toleration[];
  /** topologySpreadConstraints maxSkew 1 over kubernetes.io/hostname, DoNotSchedule. */
  spreadPerNode: boolean;
  /** The site's trackers: the group whose replica ceiling validate() advises. */
  tracker?: boolean;
}

export type CapacityProblem =
  /** No node both matches the group's nodeSelector and tolerates its taints. */
  | { kind: "no-node"; group: PodGroup }
  /** One pod's requests exceed every node it may run on. */
  | { kind: "too-big"; group: PodGroup; largest: Resources }
  /** One pod's limits exceed the allocatable of a node it may run on. */
  | { kind: "limits"; group: PodGroup; node: string; allocatable: Resources }
  /** Some pods of a (non-tracker) group find no room. */
  | { kind: "unplaced"; group: PodGroup; missing: number; order: PlacementOrder }
  /** More tracker replicas than fit (the advice: maxTrackerReplicas). */
  | { kind: "replicas"; group: PodGroup; replicas: number; max: number };

export type PlacementOrder = "platform first" | "trackers first";

export interface CapacityResult {
  ok: boolean;
  problems: CapacityProblem[];
  /** Nodes the tracker group may run on. */
  trackerNodes: number;
  /** The most tracker replicas that fit beside the platform in both orders; 0 without a tracker group. */
  maxTrackerReplicas: number;
  /** Every node's allocatable, summed. */
  allocatable: Resources;
  /** Every pod's requests, summed (DaemonSets once per node they run on). */
  requested: Resources;
  /** The problems in one line, for errors thrown past validate(). */
  error?: string;
}

const ZERO: Resources = { cpuMillis: 0, memoryMiB: 0 };
const add = (a: Resources, b: Resources, n = 1): Resources => ({
  cpuMillis: a.cpuMillis + n * b.cpuMillis,
  memoryMiB: a.memoryMiB + n * b.memoryMiB,
});
const fitsIn = (req: Resources, free: Resources) =>
  req.cpuMillis <= free.cpuMillis + 1e-9 && req.memoryMiB <= free.memoryMiB + 1e-9;

/** Kubernetes's toleration matching (k8s.io/api/core/v1 Toleration.ToleratesTaint). */
export function tolerates(tolerations: readonly Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === "Exists") return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? "") === (taint.value ?? "");
  });
}

/** The scheduler's filters apart from resources: nodeSelector, and taints that repel new pods. */
export function mayRunOn(group: Pick<PodGroup, "nodeSelector" | "tolerations">, node: SchedulingNode): boolean {
  for (const [k, v] of Object.entries(group.nodeSelector)) if (node.labels[k] !== v) return false;
  return node.taints.every(
    (t) => (t.effect !== "NoSchedule" && t.effect !== "NoExecute") || tolerates(group.tolerations, t),
  );
}

interface State {
  nodes: SchedulingNode[];
  free: Resources[];
  /** Per group name, pods per node index. */
  counts: Map<string, number[]>;
}

function newState(nodes: SchedulingNode[]): State {
  return { nodes, free: nodes.map((n) => ({ ...n.allocatable })), counts: new Map() };
}

/** The least-allocated score of a node after taking `req`. */
function score(s: State, i: number, req: Resources): number {
  const a = s.nodes[i].allocatable;
  const f = s.free[i];
  const cpu = a.cpuMillis > 0 ? (f.cpuMillis - req.cpuMillis) / a.cpuMillis : 0;
  const mem = a.memoryMiB > 0 ? (f.memoryMiB - req.memoryMiB) / a.memoryMiB : 0;
  return (cpu + mem) / 2;
}

function take(s: State, g: PodGroup, i: number): void {
  s.free[i] = add(s.free[i], g.requests, -1);
  const c = s.counts.get(g.name) ?? s.nodes.map(() => 0);
  c[i]++;
  s.counts.set(g.name, c);
}

/** The node with the best score among `candidates` for one pod of `g`, or -1. */
function best(s: State, g: PodGroup, candidates: number[]): number {
  let at = -1;
  let top = -Infinity;
  for (const i of candidates) {
    if (!fitsIn(g.requests, s.free[i])) continue;
    const sc = score(s, i, g.requests);
    if (sc > top) {
      at = i;
      top = sc;
    }
  }
  return at;
}

/** Places `count` pods of a replicated group; returns how many found no node. */
function placeReplicated(s: State, g: PodGroup, count: number): number {
  const eligible = s.nodes.map((_, i) => i).filter((i) => mayRunOn(g, s.nodes[i]));
  let left = count;
  if (!g.spreadPerNode) {
    for (; left > 0; left--) {
      const i = best(s, g, eligible);
      if (i < 0) break;
      take(s, g, i);
    }
    return left;
  }
  // Spread with maxSkew 1: a pod may only join a node that holds the fewest of
  // its group, so pods go in rounds, one per such node; a round that cannot
  // fill every such node takes the best scored.
  while (left > 0 && eligible.length > 0) {
    const counts = s.counts.get(g.name) ?? s.nodes.map(() => 0);
    const least = Math.min(...eligible.map((i) => counts[i]));
    const open = eligible.filter((i) => counts[i] === least && fitsIn(g.requests, s.free[i]));
    if (open.length === 0) break;
    if (left >= open.length) {
      for (const i of open) take(s, g, i);
      left -= open.length;
      continue;
    }
    // One node taking a pod leaves the others' scores as they were: one sort decides the round.
    const ranked = [...open].sort((a, b) => score(s, b, g.requests) - score(s, a, g.requests));
    for (const i of ranked.slice(0, left)) take(s, g, i);
    left = 0;
  }
  return left;
}

/** One pod on every node the DaemonSet may run on; returns how many found no room there. */
function placePerNode(s: State, g: PodGroup): number {
  let missing = 0;
  s.nodes.forEach((n, i) => {
    if (!mayRunOn(g, n)) return;
    if (fitsIn(g.requests, s.free[i])) take(s, g, i);
    else missing++;
  });
  return missing;
}

const bySize = (a: PodGroup, b: PodGroup) =>
  b.requests.memoryMiB - a.requests.memoryMiB || b.requests.cpuMillis - a.requests.cpuMillis;

/**
 * Places every group with the trackers at `trackerReplicas`, in one order;
 * returns the groups that did not fit, with how many pods are missing.
 */
function placeAll(
  nodes: SchedulingNode[],
  groups: PodGroup[],
  trackerReplicas: number,
  order: PlacementOrder,
): { state: State; missing: Array<{ group: PodGroup; missing: number }> } {
  const s = newState(nodes);
  const missing: Array<{ group: PodGroup; missing: number }> = [];
  const note = (group: PodGroup, n: number) => n > 0 && missing.push({ group, missing: n });
  for (const g of groups.filter((g) => g.replicas === "per-node")) note(g, placePerNode(s, g));
  const platform = groups.filter((g) => g.replicas !== "per-node" && !g.tracker).sort(bySize);
  const trackers = groups.filter((g) => g.replicas !== "per-node" && g.tracker);
  const run = (gs: PodGroup[], count: (g: PodGroup) => number) =>
    gs.forEach((g) => note(g, placeReplicated(s, g, count(g))));
  const platformCount = (g: PodGroup) => g.replicas as number;
  if (order === "platform first") {
    run(platform, platformCount);
    run(trackers, () => trackerReplicas);
  } else {
    run(trackers, () => trackerReplicas);
    run(platform, platformCount);
  }
  return { state: s, missing };
}

/** How many more pods of a group fit the free room, spread one per node where it spreads. */
function roomFor(s: State, g: PodGroup): number {
  const fit = s.nodes
    .map((n, i) => ({ n, i }))
    .filter(({ n }) => mayRunOn(g, n))
    .map(({ i }) => {
      const f = s.free[i];
      const byCpu = g.requests.cpuMillis > 0 ? Math.floor(f.cpuMillis / g.requests.cpuMillis + 1e-9) : Infinity;
      const byMem = g.requests.memoryMiB > 0 ? Math.floor(f.memoryMiB / g.requests.memoryMiB + 1e-9) : Infinity;
      return Math.max(0, Math.min(byCpu, byMem));
    });
  if (fit.length === 0) return 0;
  if (!g.spreadPerNode) return fit.reduce((a, b) => a + b, 0);
  // With maxSkew 1 a pod may only join a node holding the fewest: once the
  // fullest-packed node is full at m, no node takes more than m + 1.
  const least = Math.min(...fit);
  return fit.reduce((a, b) => a + Math.min(b, least + 1), 0);
}

const r = (x: Resources) => `${Math.round(x.cpuMillis)}m/${Math.round(x.memoryMiB)}Mi`;

export function capacityMessage(p: CapacityProblem): string {
  switch (p.kind) {
    case "no-node":
      return `${p.group.name} may run on no node of the site (it needs labels ${JSON.stringify(p.group.nodeSelector)} and no taint it does not tolerate)`;
    case "too-big":
      return `one pod of ${p.group.name} requests ${r(p.group.requests)}, more than any node it may run on allocates (at most ${r(p.largest)})`;
    case "limits":
      return `one pod of ${p.group.name} limits ${r(p.group.limits)}, more than node ${p.node} allocates (${r(p.allocatable)})`;
    case "unplaced":
      return `${p.missing} pod(s) of ${p.group.name} (${r(p.group.requests)} each) find no room on the site's nodes (${p.order})`;
    case "replicas":
      return `${p.replicas} x ${r(p.group.requests)} (requests plus RuntimeClass overhead) of ${p.group.name} do not fit beside the platform: at most ${p.max} do`;
  }
}

/**
 * Whether the groups fit the nodes, with `trackerReplicas` for the tracker
 * group (its own `replicas` when omitted), and the most trackers that would.
 */
export function siteCapacity(nodes: SchedulingNode[], groups: PodGroup[], trackerReplicas?: number): CapacityResult {
  const problems: CapacityProblem[] = [];
  const tracker = groups.find((g) => g.tracker && g.replicas !== "per-node");
  const replicas = trackerReplicas ?? (typeof tracker?.replicas === "number" ? tracker.replicas : 0);

  for (const g of groups) {
    const where = nodes.filter((n) => mayRunOn(g, n));
    if (where.length === 0) {
      // A DaemonSet with no node to run on is simply not there; a Deployment's pods stay Pending.
      if (g.replicas !== "per-node" && (g.tracker ? replicas > 0 : g.replicas > 0))
        problems.push({ kind: "no-node", group: g });
      continue;
    }
    if (!where.some((n) => fitsIn(g.requests, n.allocatable))) {
      const largest = where.reduce((a, n) => (n.allocatable.memoryMiB > a.memoryMiB ? n.allocatable : a), ZERO);
      problems.push({ kind: "too-big", group: g, largest });
    }
    const tight = where.find((n) => !fitsIn(g.limits, n.allocatable));
    if (tight) problems.push({ kind: "limits", group: g, node: tight.name, allocatable: tight.allocatable });
  }

  let max = 0;
  const unfit = new Set(problems.filter((p) => p.kind === "no-node" || p.kind === "too-big").map((p) => p.group));
  const unplaced = (order: PlacementOrder, n: number) => {
    for (const m of placeAll(nodes, groups, n, order).missing) {
      if (unfit.has(m.group) || m.group === tracker) continue;
      problems.push({ kind: "unplaced", group: m.group, missing: m.missing, order });
      unfit.add(m.group);
    }
  };
  unplaced("platform first", replicas);
  if (tracker && !unfit.has(tracker)) {
    // Beside the platform, then the largest count that also fits when trackers come first
    // (placing fewer never fails where more succeeded: each placement only takes room).
    let hi = roomFor(placeAll(nodes, groups, 0, "platform first").state, tracker);
    const fitsFirst = (n: number) =>
      placeAll(nodes, groups, n, "trackers first").missing.every((m) => unfit.has(m.group) && m.group !== tracker);
    if (!fitsFirst(hi)) {
      let lo = 0;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (fitsFirst(mid)) lo = mid;
        else hi = mid - 1;
      }
      hi = lo;
    }
    max = hi;
    if (replicas > max) problems.push({ kind: "replicas", group: tracker, replicas, max });
    // The platform's own shortfall when trackers come first, at a count that fits them.
    else unplaced("trackers first", replicas);
  } else unplaced("trackers first", replicas);

  const allocatable = nodes.reduce((a, n) => add(a, n.allocatable), ZERO);
  const requested = groups.reduce((a, g) => {
    const n =
      g.replicas === "per-node" ? nodes.filter((x) => mayRunOn(g, x)).length : g === tracker ? replicas : g.replicas;
    return add(a, g.requests, n);
  }, ZERO);
  return {
    ok: problems.length === 0,
    problems,
    trackerNodes: tracker ? nodes.filter((n) => mayRunOn(tracker, n)).length : 0,
    maxTrackerReplicas: max,
    allocatable,
    requested,
    error: problems.length ? problems.map(capacityMessage).join("; ") : undefined,
  };
}

// ---------------------------------------------------------------------------
// From manifests (what the site layer renders, what CrossGuard is handed) to pod groups.

export interface RuntimeClassModel {
  overhead: Resources;
  nodeSelector: Record<string, string>;
  tolerations: Toleration[];
}

/** A RuntimeClass manifest's overhead and scheduling, which admission merges into its pods. */
export function runtimeClassOf(rc: Obj): [string, RuntimeClassModel] {
  const podFixed = rc.overhead?.podFixed ?? {};
  return [
    rc.metadata?.name ?? "",
    {
      overhead: { cpuMillis: parseCpuMillis(podFixed.cpu) ?? 0, memoryMiB: parseMemoryMiB(podFixed.memory) ?? 0 },
      nodeSelector: { ...(rc.scheduling?.nodeSelector ?? {}) },
      tolerations: [...(rc.scheduling?.tolerations ?? [])],
    },
  ];
}

function sumOf(w: Workload, kind: "requests" | "limits"): Resources {
  const sum = (r: "cpu" | "memory", f: (q: unknown) => number | undefined) =>
    (w.podSpec.containers ?? []).reduce((acc, c) => acc + (f(c.resources?.[kind]?.[r]) ?? 0), 0);
  const peak = (r: "cpu" | "memory", f: (q: unknown) => number | undefined) =>
    Math.max(0, ...(w.podSpec.initContainers ?? []).map((c) => f(c.resources?.[kind]?.[r]) ?? 0));
  return {
    cpuMillis: Math.max(sum("cpu", parseCpuMillis), peak("cpu", parseCpuMillis)),
    memoryMiB: Math.max(sum("memory", parseMemoryMiB), peak("memory", parseMemoryMiB)),
  };
}

function spreadsPerNode(spec: Obj): boolean {
  return ((spec.topologySpreadConstraints ?? []) as Obj[]).some(
    (t) => t.topologyKey === "kubernetes.io/hostname" && t.maxSkew === 1 && t.whenUnsatisfiable === "DoNotSchedule",
  );
}

/**
 * The pod group a workload creates, or undefined for kinds that come and go
 * (Jobs, CronJobs) and leave their room to the scheduler.
 */
export function podGroupOf(
  w: Workload,
  runtimeClasses: ReadonlyMap<string, RuntimeClassModel>,
  isTracker = false,
): PodGroup | undefined {
  if (!["Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Pod"].includes(w.kind)) return undefined;
  const spec = w.podSpec as Obj;
  const rc = w.podSpec.runtimeClassName ? runtimeClasses.get(w.podSpec.runtimeClassName) : undefined;
  return {
    name: `${w.kind} ${w.namespace ?? "default"}/${w.name}`,
    replicas: w.kind === "DaemonSet" ? "per-node" : w.kind === "Pod" ? 1 : (w.replicas ?? 1),
    requests: add(sumOf(w, "requests"), rc?.overhead ?? ZERO),
    limits: sumOf(w, "limits"),
    nodeSelector: { ...(w.podSpec.nodeSelector ?? {}), ...(rc?.nodeSelector ?? {}) },
    tolerations: [...((spec.tolerations ?? []) as Toleration[]), ...(rc?.tolerations ?? [])],
    spreadPerNode: spreadsPerNode(spec),
    ...(isTracker ? { tracker: true } : {}),
  };
}
