/**
 * The edge-node rule: which nodes of a site run trackers, and the labels and
 * taints that make it so. One module, read by validate() (capacity),
 * infra/render/k3sConfig.ts (the labels a host registers with),
 * infra/k3sCluster.ts (which hosts get the tracker's host directories),
 * infra/simulatedNodes.ts (KWOK nodes), the site layer (where its trackers
 * fit) and both policy engines (the tracker's nodeSelector, the size class
 * limits are judged against).
 *
 * The rule: trackers run on agents and on simulated (KWOK) nodes. A site that
 * has neither runs them on its servers, as a K3s single-node edge install
 * does: the retail case's smallest cities are one 2C4G box, and a server-only
 * site whose trackers could never schedule would be worse than useless. Such
 * servers get the edge label like agents, carry no taint Edgefleet adds (K3s
 * taints no server by itself), and are sized by their own inventory size.
 * Servers that run no kubelet (disableAgentOnServers, or the upstream control
 * plane) are not nodes at all.
 *
 * Kept loadable by Node's type stripping (imports of types say `type`):
 * scripts/inventory/policy-config.ts reaches it under run-ts.sh.
 */
import type { Taint } from "./schema";
import {
  SIZE_CLASSES,
  SIZE_CLASS_NAMES,
  allocatable,
  sizeClassFor,
  type Resources,
  type SizeClass,
  type SizeClassName,
} from "./sizeClasses";

export const LABEL_NODE_TYPE = "node-type";
export const NODE_TYPE_EDGE = "edge";
export const LABEL_SITE = "edgefleet.dev/site";
export const LABEL_PROFILE = "edgefleet.dev/profile";
/** Set where the WasmEdge shim is installed; the `wasmedge` RuntimeClass schedules onto it. */
export const LABEL_WASM = "edgefleet.dev/wasm";
/** Set on simulated nodes only (infra/scripts/kwok/up.sh keys its re-creation on it). */
export const LABEL_SIZE_CLASS = "edgefleet.dev/size-class";

/** The tracker Deployment's nodeSelector; the tracker-runtime policy demands exactly this. */
export const TRACKER_NODE_SELECTOR: Readonly<Record<string, string>> = { [LABEL_NODE_TYPE]: NODE_TYPE_EDGE };

/** Labels Edgefleet sets on every node it makes; an inventory entry may not set them itself. */
export const EDGEFLEET_NODE_LABELS: readonly string[] = [LABEL_NODE_TYPE, LABEL_SITE, LABEL_PROFILE, LABEL_WASM];

/** What the rule needs to know of a site: its shape, not its addresses. */
export interface NodeRuleSite {
  distribution: "k3s" | "upstream";
  disableAgentOnServers: boolean;
  hosts: ReadonlyArray<{ role: "server" | "agent" }>;
  /** Simulated nodes (only next to the upstream control plane). */
  kwokNodes: number;
}

/** Whether an inventory host becomes a Node (runs a kubelet). */
export function hostRunsKubelet(site: NodeRuleSite, role: "server" | "agent"): boolean {
  if (role === "agent") return true;
  return site.distribution === "k3s" && !site.disableAgentOnServers;
}

/** Whether an inventory host runs trackers: agents, or servers of a site with no agents and no simulated nodes. */
export function hostRunsTrackers(site: NodeRuleSite, role: "server" | "agent"): boolean {
  if (!hostRunsKubelet(site, role)) return false;
  if (role === "agent") return true;
  return site.kwokNodes === 0 && !site.hosts.some((h) => h.role === "agent");
}

/** The labels Edgefleet sets on a node; the edge label only where trackers run. */
export function edgefleetNodeLabels(n: {
  site: string;
  profile: string;
  wasm: boolean;
  runsTrackers: boolean;
}): Record<string, string> {
  const labels: Record<string, string> = { [LABEL_SITE]: n.site, [LABEL_PROFILE]: n.profile };
  if (n.runsTrackers) labels[LABEL_NODE_TYPE] = NODE_TYPE_EDGE;
  if (n.wasm) labels[LABEL_WASM] = "true";
  return labels;
}

/** infra/scripts/kwok/up.sh's node names (node_name), numbered from 1. */
export function simulatedNodeName(site: string, i: number): string {
  return `${site}-edge-${String(i).padStart(4, "0")}`;
}

/**
 * Every label a simulated node registers with: what a kubelet would set, and
 * Edgefleet's. infra/scripts/kwok/up.sh writes these (a unit test holds its
 * template to this function).
 */
export function simulatedNodeLabels(n: {
  site: string;
  profile: string;
  sizeClass: SizeClassName;
  name: string;
}): Record<string, string> {
  return {
    "kubernetes.io/arch": "amd64",
    "kubernetes.io/os": "linux",
    "kubernetes.io/hostname": n.name,
    "node-role.kubernetes.io/agent": "",
    [LABEL_SIZE_CLASS]: n.sizeClass,
    ...edgefleetNodeLabels({ site: n.site, profile: n.profile, wasm: true, runsTrackers: true }),
  };
}

/** A node as the scheduler sees it: what capacity.ts places pods on. */
export interface SchedulingNode {
  name: string;
  labels: Record<string, string>;
  taints: Taint[];
  allocatable: Resources;
}

/** A node of a site, from its inventory or its simulated-node set. */
export interface SiteNode extends SchedulingNode {
  kind: "server" | "agent" | "simulated";
  /** The config key it comes from, for messages. */
  path: string;
  runsTrackers: boolean;
}

/** What siteNodes reads of a site (SiteSpec has it all). */
export interface NodeSite {
  name: string;
  profile: string;
  distribution: "k3s" | "upstream";
  disableAgentOnServers: boolean;
  kwok?: { nodes: number; size: { name: string } };
  hosts: ReadonlyArray<{
    name: string;
    role: "server" | "agent";
    size: { class: SizeClass };
    labels: Record<string, string>;
    taints: Taint[];
  }>;
}

export function nodeRuleSite(site: NodeSite): NodeRuleSite {
  return {
    distribution: site.distribution,
    disableAgentOnServers: site.disableAgentOnServers,
    hosts: site.hosts,
    kwokNodes: site.kwok?.nodes ?? 0,
  };
}

/**
 * The class simulated nodes are registered as: up.sh knows the named classes'
 * capacity and allocatable only, so validate() refuses explicit sizes for them.
 */
export function simulatedNodeSizeClass(size: { name: string }): SizeClassName {
  return (SIZE_CLASS_NAMES as string[]).includes(size.name) ? (size.name as SizeClassName) : "4c8g";
}

/**
 * Every node the site's cluster will have, in inventory order and then the
 * simulated ones, with the labels, taints and allocatable the host layer
 * gives it. `at` is the site's config path (edgefleet:sites[i]).
 */
export function siteNodes(site: NodeSite, at: string): SiteNode[] {
  const rule = nodeRuleSite(site);
  const out: SiteNode[] = [];
  site.hosts.forEach((h, j) => {
    if (!hostRunsKubelet(rule, h.role)) return;
    const runsTrackers = hostRunsTrackers(rule, h.role);
    out.push({
      name: h.name,
      kind: h.role,
      path: `${at}.hosts[${j}]`,
      runsTrackers,
      labels: {
        "kubernetes.io/hostname": h.name,
        "kubernetes.io/os": "linux",
        ...h.labels,
        ...edgefleetNodeLabels({ site: site.name, profile: site.profile, wasm: true, runsTrackers }),
      },
      taints: [...h.taints],
      allocatable: allocatable(h.size.class),
    });
  });
  const kwok = site.kwok?.nodes ?? 0;
  if (kwok > 0) {
    const sizeClass = simulatedNodeSizeClass(site.kwok!.size);
    for (let i = 1; i <= kwok; i++) {
      const name = simulatedNodeName(site.name, i);
      out.push({
        name,
        kind: "simulated",
        path: `${at}.kwok`,
        runsTrackers: true,
        labels: simulatedNodeLabels({ site: site.name, profile: site.profile, sizeClass, name }),
        taints: [],
        allocatable: allocatable(SIZE_CLASSES[sizeClass]),
      });
    }
  }
  return out;
}

/**
 * `count` edge nodes of one class that also hold the platform: the reference
 * site the footprint table and the component tests describe a profile with.
 */
export function uniformEdgeNodes(count: number, sizeClass: SizeClassName, site: string, profile: string): SiteNode[] {
  return Array.from({ length: count }, (_, i) => {
    const name = simulatedNodeName(site, i + 1);
    return {
      name,
      kind: "agent" as const,
      path: `${site}.nodes[${i}]`,
      runsTrackers: true,
      labels: {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        ...edgefleetNodeLabels({ site, profile, wasm: true, runsTrackers: true }),
      },
      taints: [],
      allocatable: allocatable(SIZE_CLASSES[sizeClass]),
    };
  });
}

/**
 * The size class whose limits (policies' max-limits) a site's pods are held
 * to: the largest class every node of the site can give a pod, so a pod the
 * policies admit fits whichever node it lands on; the smallest class when a
 * node is smaller than all of them (validate() refuses limits beyond that
 * node itself). It is config/sizeClasses.ts sizeClassFor (one rule, one
 * tie-break) on allocatable: the classes' against the least any node of the
 * site allocates, in CPU and in memory.
 */
export function limitsSizeClass(nodes: ReadonlyArray<{ allocatable: Resources }>): SizeClassName {
  const least: Resources = {
    cpuMillis: Math.min(...nodes.map((n) => n.allocatable.cpuMillis)),
    memoryMiB: Math.min(...nodes.map((n) => n.allocatable.memoryMiB)),
  };
  const byAllocatable = Object.fromEntries(
    SIZE_CLASS_NAMES.map((c) => [c, { ...SIZE_CLASSES[c], capacity: allocatable(SIZE_CLASSES[c]) }]),
  ) as Record<SizeClassName, SizeClass>;
  return sizeClassFor(least, byAllocatable);
}
