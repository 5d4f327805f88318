/**
 * The one source of truth for every number and list that both enforcement
 * points use: the CrossGuard pack (preview) imports this module directly, and
 * the Gatekeeper Constraints (admission) get their `spec.parameters` rendered
 * from it by `policies/gatekeeper/constraints.ts`. Change a threshold here and
 * both move together; test/policy/agreement.test.ts proves they judge alike.
 */
import { TRACKER_NODE_SELECTOR } from "../config/edgeNodes";
import { siteLayerRepositories } from "../components/images";
import { SIZE_CLASSES, SIZE_CLASS_NAMES, type SizeClassName, allocatable } from "../config/sizeClasses";

export interface LabelPair {
  key: string;
  value: string;
}

/**
 * One hostPath allow-list entry, as in gatekeeper-library's
 * K8sPSPHostFilesystem (and PodSecurityPolicy's allowedHostPaths).
 */
export interface HostPathEntry {
  /** Absolute; matched on a path boundary: "/var/log" admits "/var/log/pods", not "/var/logs". */
  pathPrefix: string;
  /**
   * Every mount of a volume this entry admits must set readOnly: true, and
   * some container must mount it. A path that a writable entry admits as well
   * is writable: the allow-list is a union, as in PodSecurityPolicy.
   */
  readOnly: boolean;
}

export interface ResourceRatio {
  cpu: number;
  memory: number;
}

export interface MaxLimits {
  /** CPU in millicores. */
  cpuMillis: number;
  /** Memory in MiB. */
  memoryMiB: number;
}

export interface Thresholds {
  /**
   * Upper bound of limit / request per container and resource. The cases run
   * CPU at up to 5x (100m -> 500m, 200m -> 1000m) and memory at up to 4x
   * (256Mi -> 1Gi); anything looser lets a 2C4G node be overcommitted past
   * what its eviction threshold can absorb.
   */
  maxLimitRequestRatio: ResourceRatio;
  /**
   * Registries (or registry/path prefixes, matched on a path boundary) images
   * may come from. Short names (`redis:7.2`) are normalised to
   * `docker.io/library/redis:7.2` first. By default exactly the repositories
   * of the site layer's own images (components/images.ts); a stack adds its
   * own registry (the cases' `registry.example.com`) with the stack setting
   * `edgefleet:allowedRegistries`, which reaches both engines as
   * `extraRegistries` (policy config, Constraint params).
   */
  allowedRegistries: string[];
  /** Tags refused outright; an image with neither tag nor digest is refused too. */
  disallowedTags: string[];
  /**
   * hostPath prefixes a Pod may mount on every site. The factory case keeps
   * its SQLite database at /var/lib/industrial-iot, which the tracker writes.
   */
  allowedHostPaths: HostPathEntry[];
  /**
   * What a site whose layer ships container logs adds (policies/siteHostPaths.ts
   * decides which): the shipper tails kubelet's logs under the node's
   * /var/log and has no reason to write there, while a writable /var/log would
   * let a Pod forge or erase every other Pod's logs.
   */
  logShipperHostPaths: HostPathEntry[];
  /** Labels every Pod (and every workload's Pod template) must carry. */
  requiredLabels: string[];
  /** Resources every container must both request and limit. */
  requiredResources: Array<"cpu" | "memory">;
  trackers: {
    runtimeClassName: string;
    nodeSelector: Record<string, string>;
    /**
     * A Pod is a tracker when it runs in one of these namespaces or carries
     * this label; both enforcement points use the same two tests.
     */
    namespaces: string[];
    label: LabelPair;
  };
  /** Largest sum of container limits one Pod may ask for, per node size class. */
  maxLimitsBySizeClass: Record<SizeClassName, MaxLimits>;
  /**
   * Namespaces the Gatekeeper Constraints leave alone: K3s's own add-ons
   * (CoreDNS, local-path, metrics-server) and Gatekeeper itself are not ours
   * to reshape.
   */
  excludedNamespaces: string[];
}

/**
 * A Pod's limits must fit what the scheduler may hand out on one node:
 * capacity minus K3s's and the system's reservations and the eviction
 * threshold (config/sizeClasses.ts).
 */
function maxLimitsFor(name: SizeClassName): MaxLimits {
  const a = allocatable(SIZE_CLASSES[name]);
  return { cpuMillis: a.cpuMillis, memoryMiB: a.memoryMiB };
}

export const THRESHOLDS: Thresholds = {
  maxLimitRequestRatio: { cpu: 5, memory: 4 },
  allowedRegistries: siteLayerRepositories(),
  disallowedTags: ["latest"],
  allowedHostPaths: [{ pathPrefix: "/var/lib/industrial-iot", readOnly: false }],
  logShipperHostPaths: [{ pathPrefix: "/var/log", readOnly: true }],
  requiredLabels: ["app.kubernetes.io/name", "app.kubernetes.io/part-of"],
  requiredResources: ["cpu", "memory"],
  trackers: {
    runtimeClassName: "wasmedge",
    nodeSelector: { ...TRACKER_NODE_SELECTOR },
    namespaces: ["edgefleet-trackers"],
    label: { key: "app.kubernetes.io/component", value: "tracker" },
  },
  maxLimitsBySizeClass: Object.fromEntries(SIZE_CLASS_NAMES.map((n) => [n, maxLimitsFor(n)])) as Record<
    SizeClassName,
    MaxLimits
  >,
  excludedNamespaces: ["kube-system", "kube-public", "kube-node-lease", "gatekeeper-system"],
};
