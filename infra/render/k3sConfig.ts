/**
 * /etc/rancher/k3s/config.yaml for one host, from typed args.
 *
 * K3s turns every key of config.yaml into a `--key=value` flag
 * (pkg/configfilearg, see infra/K3S-NOTES.md §1). `k3s server` drops keys it
 * does not know with a warning, but `k3s agent` has no such filter and
 * refuses to start on any server-only key ("flag provided but not defined"),
 * so the agent document below carries agent flags only, and server-only args
 * on an agent are an error here rather than a dead node later.
 */
import { EDGEFLEET_NODE_LABELS, edgefleetNodeLabels } from "../../config/edgeNodes";
import { cronProblem } from "../../config/etcdBackup";
import { getProfile, type ProfileName } from "../../config/profiles";
import { resolveSize, kubeletQuantities, type SizeSpec } from "./size";
import { toYaml, type YamlValue } from "./yaml";

export type NodeRole = "server" | "agent";
export type TaintEffect = "NoSchedule" | "PreferNoSchedule" | "NoExecute";

export interface NodeTaint {
  key: string;
  value?: string;
  effect: TaintEffect;
}

export interface K3sConfigArgs {
  role: NodeRole;
  /** Kubernetes node name (defaults to the host's hostname in K3s; we always set it). */
  nodeName: string;
  /** Site (cluster) name; becomes the `edgefleet.dev/site` label. */
  site: string;
  /** Site profile (config/profiles.ts); becomes `edgefleet.dev/profile` and selects `disable`. */
  profile: ProfileName;
  size: SizeSpec;
  /**
   * The node runs trackers and gets the edge label: config/edgeNodes.ts
   * decides (agents, or the servers of a site without agents).
   */
  runsTrackers: boolean;
  /** Cluster has Wasm enabled: Wasm label on workload nodes, K3s's `runtimes` AddOn disabled on servers. */
  wasm: boolean;
  /** Root-only file holding the join token (written by configure.sh). @default DEFAULT_TOKEN_FILE */
  tokenFile?: string;
  /**
   * Servers: root-only file holding the agent token, the password agents join
   * with (written by configure.sh). Not an agent flag. @default DEFAULT_AGENT_TOKEN_FILE
   */
  agentTokenFile?: string;
  /** https://<server>:6443 for every node that joins an existing cluster. */
  serverUrl?: string;
  /** First server of an embedded-etcd HA cluster. */
  clusterInit?: boolean;
  nodeIp?: string;
  labels?: Record<string, string>;
  taints?: NodeTaint[];
  /** Extra packaged components to disable (servers), on top of the profile's k3sDisable. @default [] */
  disable?: string[];
  tlsSan?: string[];
  /** @default true */
  secretsEncryption?: boolean;
  /** Needs the sysctls from renderKubeletSysctls() on the host. @default true */
  protectKernelDefaults?: boolean;
  /** Server runs the control plane only, no kubelet (the lab's servers). @default false */
  disableAgent?: boolean;
  /**
   * Servers of an embedded-etcd site: scheduled snapshots. The S3
   * credentials are not here: configure.sh writes them to
   * ETCD_S3_CREDENTIALS_FILE (config/etcdBackup.ts). @default none (K3s's defaults)
   */
  etcdSnapshots?: EtcdSnapshotArgs;
}

export interface EtcdSnapshotArgs {
  /** robfig/cron spec (config/etcdBackup.ts cronProblem). */
  scheduleCron: string;
  /** Snapshots kept, at least 1. */
  retention: number;
  /** @default false */
  compress?: boolean;
  /** Upload each snapshot too; credentials from the drop-in. @default none (local disk only) */
  s3?: EtcdS3Target;
}

export interface EtcdS3Target {
  /** host[:port]. */
  endpoint: string;
  bucket: string;
  /** @default K3s's us-east-1 */
  region?: string;
  folder?: string;
  /** Plain http. @default false */
  insecure?: boolean;
}

export const DEFAULT_TOKEN_FILE = "/etc/rancher/k3s/edgefleet-token";
export const DEFAULT_AGENT_TOKEN_FILE = "/etc/rancher/k3s/edgefleet-agent-token";

/** K3s's bundled RuntimeClasses (manifests/runtimes.yaml, incl. `wasmedge`); Pulumi owns ours instead. */
export const RUNTIMES_ADDON = "runtimes";

/**
 * K3s's pod and service networks, which config.yaml leaves at their defaults
 * (cluster-cidr, service-cidr): a host address inside one of them would be
 * routed into the cluster instead of to the host, so validate() refuses it.
 */
export const K3S_CLUSTER_CIDR = "10.42.0.0/16";
export const K3S_SERVICE_CIDR = "10.43.0.0/16";

const NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE_RE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Labels in kubernetes.io namespaces that a kubelet may still set on its own node. */
const KUBELET_SETTABLE_LABELS = new Set([
  "kubernetes.io/hostname",
  "kubernetes.io/arch",
  "kubernetes.io/os",
  "beta.kubernetes.io/instance-type",
  "failure-domain.beta.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "topology.kubernetes.io/zone",
]);

/** Why a node label or taint key cannot be registered by the kubelet, or undefined when it can (validate() asks too). */
export function nodeKeyProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : "";
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (!NAME_RE.test(name) || (prefix && (prefix.length > 253 || !DNS_SUBDOMAIN_RE.test(prefix)))) {
    return `"${key}" is not a valid label/taint key`;
  }
  // The kubelet may not set these on itself (NodeRestriction); K3s would start and the node would never register.
  // NodeRestriction's own exceptions: the node.kubernetes.io and kubelet.kubernetes.io prefixes, and
  // the well-known topology and instance labels (plugin/pkg/admission/noderestriction, kubeletapis).
  if (
    /(^|\.)(kubernetes\.io|k8s\.io)$/.test(prefix) &&
    !/^(node|kubelet)\.kubernetes\.io$/.test(prefix) &&
    !KUBELET_SETTABLE_LABELS.has(key)
  ) {
    return `"${key}" is in a Kubernetes-reserved namespace the kubelet may not self-assign`;
  }
  return undefined;
}

function checkLabelKey(key: string, where: string): void {
  const problem = nodeKeyProblem(key);
  if (problem) throw new Error(`${where}: ${problem}`);
}

function checkLabelValue(key: string, value: string, where: string): void {
  if (!LABEL_VALUE_RE.test(value)) throw new Error(`${where}: value "${value}" of "${key}" is not a valid label value`);
}

/** The labels a node registers with, sorted by key. */
export function nodeLabels(args: K3sConfigArgs): Array<[string, string]> {
  const where = `node ${args.nodeName}`;
  const own = edgefleetNodeLabels(args);
  for (const [k, v] of Object.entries(args.labels ?? {})) {
    if (EDGEFLEET_NODE_LABELS.includes(k)) {
      throw new Error(`${where}: label "${k}" is set by Edgefleet and cannot be given in the inventory`);
    }
    checkLabelKey(k, where);
    checkLabelValue(k, v, where);
  }
  const all = { ...own, ...(args.labels ?? {}) };
  for (const [k, v] of Object.entries(own)) checkLabelValue(k, v, where);
  return Object.entries(all).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function formatTaint(t: NodeTaint): string {
  return t.value === undefined || t.value === "" ? `${t.key}:${t.effect}` : `${t.key}=${t.value}:${t.effect}`;
}

/** kubelet flags for the size class: reservations, and the memory eviction threshold. */
export function kubeletArgs(size: SizeSpec): string[] {
  const c = resolveSize(size);
  return [
    // Setting any eviction-hard signal drops the kubelet's defaults for the
    // others, so the upstream disk defaults are restated next to ours.
    `eviction-hard=memory.available<${c.evictionHardMemoryMiB}Mi,nodefs.available<10%,imagefs.available<15%,nodefs.inodesFree<5%`,
    `kube-reserved=${kubeletQuantities(c.kubeReserved)}`,
    `system-reserved=${kubeletQuantities(c.systemReserved)}`,
  ];
}

/** The `disable` list of a server: the profile's k3sDisable, extras, and `runtimes` when Wasm is on; sorted, unique. */
export function disabledComponents(args: Pick<K3sConfigArgs, "profile" | "disable" | "wasm">): string[] {
  const set = new Set<string>([...getProfile(args.profile).k3sDisable, ...(args.disable ?? [])]);
  if (args.wasm) set.add(RUNTIMES_ADDON);
  for (const d of set) {
    if (!/^[a-z0-9][-a-z0-9.]*$/.test(d)) throw new Error(`"${d}" is not a K3s packaged-component name`);
  }
  return [...set].sort();
}

function validate(args: K3sConfigArgs): void {
  const where = `node ${args.nodeName}`;
  if (!DNS_SUBDOMAIN_RE.test(args.nodeName) || args.nodeName.length > 63) {
    throw new Error(`${where}: node name must be a lowercase DNS label (got "${args.nodeName}")`);
  }
  if (args.serverUrl !== undefined && !/^https:\/\/[^/\s]+:\d+$/.test(args.serverUrl)) {
    throw new Error(`${where}: serverUrl must look like https://<host>:6443 (got "${args.serverUrl}")`);
  }
  if (args.role === "agent") {
    if (!args.serverUrl) throw new Error(`${where}: an agent needs serverUrl`);
    const serverOnly: string[] = [];
    if (args.clusterInit) serverOnly.push("clusterInit");
    if (args.disableAgent) serverOnly.push("disableAgent");
    if (args.tlsSan?.length) serverOnly.push("tlsSan");
    if (args.disable?.length) serverOnly.push("disable");
    if (args.agentTokenFile !== undefined) serverOnly.push("agentTokenFile");
    if (args.etcdSnapshots) serverOnly.push("etcdSnapshots");
    if (serverOnly.length) {
      throw new Error(
        `${where}: ${serverOnly.join(", ")} apply to servers only; k3s agent refuses unknown flags and would not start`,
      );
    }
  } else if (args.clusterInit && args.serverUrl) {
    throw new Error(`${where}: clusterInit (first server) and serverUrl (joining server) are mutually exclusive`);
  }
  if (args.tokenFile !== undefined && !args.tokenFile.startsWith("/")) {
    throw new Error(`${where}: tokenFile must be an absolute path`);
  }
  if (args.agentTokenFile !== undefined && !args.agentTokenFile.startsWith("/")) {
    throw new Error(`${where}: the agent token file must be an absolute path`);
  }
  if (
    args.role === "server" &&
    (args.agentTokenFile ?? DEFAULT_AGENT_TOKEN_FILE) === (args.tokenFile ?? DEFAULT_TOKEN_FILE)
  ) {
    throw new Error(`${where}: tokenFile and agentTokenFile must be different files`);
  }
  for (const t of args.taints ?? []) {
    checkLabelKey(t.key, where);
    if (t.value !== undefined) checkLabelValue(t.key, t.value, where);
    if (!["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(t.effect)) {
      throw new Error(`${where}: taint effect "${String(t.effect)}" is not NoSchedule, PreferNoSchedule or NoExecute`);
    }
  }
  for (const s of args.tlsSan ?? []) {
    if (!/^[A-Za-z0-9.:*-]+$/.test(s)) throw new Error(`${where}: tls-san "${s}" is not a hostname or IP`);
  }
  const snap = args.etcdSnapshots;
  if (snap) {
    const cron = cronProblem(snap.scheduleCron);
    if (cron) throw new Error(`${where}: etcd snapshot schedule: ${cron}`);
    if (!Number.isInteger(snap.retention) || snap.retention < 1) {
      throw new Error(`${where}: etcd snapshot retention must be a whole number of at least 1 (got ${snap.retention})`);
    }
    if (snap.s3 && (!/^[^\s/]+$/.test(snap.s3.endpoint) || !/^[a-z0-9][a-z0-9.-]+[a-z0-9]$/.test(snap.s3.bucket))) {
      throw new Error(`${where}: etcd S3 target needs an endpoint host[:port] and a bucket name`);
    }
  }
}

/**
 * The config.yaml document as an ordered map. Keys come out in one fixed order
 * and every list is sorted, so equal args give byte-identical files whatever
 * order the inventory lists things in.
 */
export function k3sConfigDocument(args: K3sConfigArgs): Record<string, YamlValue> {
  validate(args);
  const doc: Record<string, YamlValue> = {};
  // The tokens stay in root-only files; config.yaml holds no secret and can sit in plain state.
  doc["token-file"] = args.tokenFile ?? DEFAULT_TOKEN_FILE;
  // Servers only: `k3s agent` has no such flag and would refuse to start.
  if (args.role === "server") doc["agent-token-file"] = args.agentTokenFile ?? DEFAULT_AGENT_TOKEN_FILE;
  if (args.serverUrl) doc["server"] = args.serverUrl;
  if (args.role === "server" && args.clusterInit) doc["cluster-init"] = true;
  doc["node-name"] = args.nodeName;
  if (args.nodeIp) doc["node-ip"] = args.nodeIp;

  const runsKubelet = !(args.role === "server" && args.disableAgent);
  if (runsKubelet) {
    doc["node-label"] = nodeLabels(args).map(([k, v]) => `${k}=${v}`);
    const taints = [...(args.taints ?? [])].map(formatTaint).sort();
    if (taints.length) doc["node-taint"] = taints;
    doc["kubelet-arg"] = kubeletArgs(args.size);
    if (args.protectKernelDefaults ?? true) doc["protect-kernel-defaults"] = true;
  }

  if (args.role === "server") {
    if (args.disableAgent) doc["disable-agent"] = true;
    const disable = disabledComponents(args);
    if (disable.length) doc["disable"] = disable;
    const sans = [...new Set(args.tlsSan ?? [])].sort();
    if (sans.length) doc["tls-san"] = sans;
    doc["write-kubeconfig-mode"] = "0600";
    if (args.secretsEncryption ?? true) doc["secrets-encryption"] = true;
    const snap = args.etcdSnapshots;
    if (snap) {
      doc["etcd-snapshot-schedule-cron"] = snap.scheduleCron;
      doc["etcd-snapshot-retention"] = snap.retention;
      if (snap.compress) doc["etcd-snapshot-compress"] = true;
      if (snap.s3) {
        // No etcd-s3-access-key / etcd-s3-secret-key here: they live in the root-only drop-in.
        doc["etcd-s3"] = true;
        doc["etcd-s3-endpoint"] = snap.s3.endpoint;
        doc["etcd-s3-bucket"] = snap.s3.bucket;
        if (snap.s3.region) doc["etcd-s3-region"] = snap.s3.region;
        if (snap.s3.folder) doc["etcd-s3-folder"] = snap.s3.folder;
        if (snap.s3.insecure) doc["etcd-s3-insecure"] = true;
      }
    }
  }
  return doc;
}

export function renderK3sConfig(args: K3sConfigArgs): string {
  return toYaml(k3sConfigDocument(args), "Managed by Edgefleet (Pulumi). Local edits are overwritten.");
}

/**
 * Sysctls the kubelet checks when protect-kernel-defaults is on
 * (pkg/kubelet/cm/container_manager_linux.go setupKernelTunables); with any
 * of them different the kubelet exits instead of changing them.
 */
export function renderKubeletSysctls(): string {
  return [
    "# Managed by Edgefleet: values the kubelet requires with protect-kernel-defaults.",
    "vm.overcommit_memory=1",
    "vm.panic_on_oom=0",
    "kernel.panic=10",
    "kernel.panic_on_oops=1",
    "kernel.keys.root_maxkeys=1000000",
    "kernel.keys.root_maxbytes=25000000",
    "",
  ].join("\n");
}
