/**
 * Stack rule: the site's workloads fit the nodes it will have. The same model
 * as validate() and the site layer (config/capacity.ts) on the same nodes
 * (scripts/inventory/policy-config.ts writes them from config/edgeNodes.ts),
 * applied to what the preview would really create: every Deployment,
 * StatefulSet, ReplicaSet, Pod and DaemonSet, with its RuntimeClass's
 * overhead and nodeSelector. Jobs and CronJobs come and go and are left to
 * the scheduler.
 */
import type { Taint } from "../../../config/schema";
import type { Resources } from "../../../config/sizeClasses";
import type { SchedulingNode } from "../../../config/edgeNodes";
import {
  capacityMessage,
  podGroupOf,
  siteCapacity,
  type PodGroup,
  type RuntimeClassModel,
} from "../../../config/capacity";
import { THRESHOLDS } from "../../thresholds";
import { type Workload } from "../lib/workload";
import { isTracker } from "./cluster";

/** Identical nodes, counted: a site of 2000 simulated nodes stays a few lines of policy config. */
export interface NodeGroup {
  count: number;
  /** Without kubernetes.io/hostname, which each node has its own of. */
  labels: Record<string, string>;
  taints: Taint[];
  allocatable: Resources;
}

export interface SiteCapacity {
  nodes: NodeGroup[];
}

/** Groups a site's nodes for the policy config. */
export function nodeGroups(nodes: ReadonlyArray<SchedulingNode>): NodeGroup[] {
  const out = new Map<string, NodeGroup>();
  for (const n of nodes) {
    const labels = Object.fromEntries(
      Object.entries(n.labels)
        .filter(([k]) => k !== "kubernetes.io/hostname")
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    const g = { labels, taints: n.taints, allocatable: n.allocatable };
    const key = JSON.stringify(g);
    const seen = out.get(key);
    if (seen) seen.count++;
    else out.set(key, { count: 1, ...g });
  }
  return [...out.values()];
}

/** The nodes a policy config's groups stand for, each with its own hostname. */
export function expandNodes(site: string, groups: ReadonlyArray<NodeGroup>): SchedulingNode[] {
  return groups.flatMap((g, gi) =>
    Array.from({ length: g.count }, (_, i) => {
      const name = `${site}-${gi}-${i}`;
      return {
        name,
        labels: { ...g.labels, "kubernetes.io/hostname": name },
        taints: g.taints,
        allocatable: g.allocatable,
      };
    }),
  );
}

export function podGroupsOf(workloads: Workload[], runtimeClasses: ReadonlyMap<string, RuntimeClassModel>): PodGroup[] {
  return workloads
    .map((w) => podGroupOf(w, runtimeClasses, isTracker(w, THRESHOLDS.trackers)))
    .filter((g): g is PodGroup => g !== undefined);
}

export function edgeCapacityViolations(
  site: string,
  workloads: Workload[],
  cap: SiteCapacity,
  runtimeClasses: ReadonlyMap<string, RuntimeClassModel>,
): string[] {
  const nodes = expandNodes(site, cap.nodes ?? []);
  const r = siteCapacity(nodes, podGroupsOf(workloads, runtimeClasses));
  return r.problems.map((p) => `site ${site} (${nodes.length} nodes): ${capacityMessage(p)}`);
}
