import { type PriorityClassManifest } from "./common";

/** The class of Edgefleet's per-node agents (today the log shipper). */
export const NODE_AGENT_PRIORITY_CLASS = "edgefleet-node-agent";

/**
 * Trackers carry no class and so run at 0; anything above that puts an agent
 * ahead of them. 10^6 leaves room on both sides: for classes between trackers
 * and agents, and below the 10^9 ceiling of user-defined classes, under which
 * the cluster's own system-cluster-critical (2000000000) and
 * system-node-critical (2000001000) stay untouchable.
 */
export const NODE_AGENT_PRIORITY = 1_000_000;

/**
 * A DaemonSet pod can only go to its one node. The capacity check counts it
 * there, but trackers can still take the room first (a node joins and the HPA
 * fills it before the agent's pod is created, or an agent's requests grow in
 * an update): without a priority the agent would then stay Pending and that
 * node's logs go nowhere. PreemptLowerPriority lets the scheduler evict a
 * tracker on that node instead (the Deployment places it elsewhere), and the
 * kubelet's eviction under memory pressure takes trackers before agents.
 */
export function renderNodeAgentPriorityClass(site: string): PriorityClassManifest {
  return {
    apiVersion: "scheduling.k8s.io/v1",
    kind: "PriorityClass",
    metadata: {
      name: NODE_AGENT_PRIORITY_CLASS,
      labels: {
        "app.kubernetes.io/part-of": "edgefleet",
        "app.kubernetes.io/managed-by": "pulumi",
        "edgefleet.dev/site": site,
      },
    },
    value: NODE_AGENT_PRIORITY,
    preemptionPolicy: "PreemptLowerPriority",
    // Every pod without a class must stay at 0, or the agents would outrank nothing.
    globalDefault: false,
    description:
      "Edgefleet per-node agents (log shipper): scheduled ahead of trackers, which they may preempt on " +
      "their node; below the cluster's system-* classes.",
  };
}
