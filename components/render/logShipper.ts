import { stringify } from "yaml";
import {
  appLabels,
  appPeer,
  type ConfigMapManifest,
  type DaemonSetManifest,
  k8sResources,
  type NetworkPolicyManifest,
  type NetworkPolicyPeerManifest,
  type PriorityClassManifest,
  type ResourceSpec,
  type SecurityContextManifest,
  selectorLabels,
  type ServiceAccountManifest,
  withConfigHash,
} from "./common";
import { LOKI_APP, LOKI_PORT, LOKI_SERVICE } from "./loki";
import { NODE_AGENT_PRIORITY_CLASS, renderNodeAgentPriorityClass } from "./priorityClass";
import { prometheusPeer } from "./redis";

/**
 * Fluent Bit, not Promtail or Alloy. Promtail reached end of life (Grafana
 * ended it in favour of Alloy). Alloy is the supported successor but a Go
 * agent built around a component graph, a UI and clustering, with the
 * resident set to match; on a 2C4G node every MiB it holds is a MiB no tracker
 * gets, on every node. Fluent Bit is C, idles at ~12 MiB with this config, and
 * has everything this needs built in: tail with the CRI multiline parser and
 * a Loki output.
 */
export const LOG_SHIPPER_APP = "fluent-bit";
/** The official image (distroless); 5.1 is the current stable line. */
export const LOG_SHIPPER_IMAGE = "fluent/fluent-bit:5.1.1";
export const LOG_SHIPPER_PORT = 2020;
/** Fluent Bit's Prometheus exposition of its own counters (records in/out, retries, drops). */
export const LOG_SHIPPER_METRICS_PATH = "/api/v1/metrics/prometheus";
/** The only host path it mounts, read-only: kubelet's /var/log/pods and the /var/log/containers links into it. */
export const HOST_LOG_DIR = "/var/log";
const CONTAINER_LOGS = `${HOST_LOG_DIR}/containers/*.log`;
const CONFIG_DIR = "/fluent-bit/etc/edgefleet";
const STATE_DIR = "/var/lib/fluent-bit";
/** Parser that takes namespace, pod and container from the CRI log file's name. */
const FILE_NAME_PARSER = "edgefleet-k8s-log-file";

/**
 * kubelet names each file /var/log/containers/<pod>_<namespace>_<container>-<64 hex id>.log;
 * pod and namespace names cannot contain "_", so the split is unambiguous.
 */
export const LOG_FILE_NAME_REGEX =
  "^/var/log/containers/(?<pod>[^_]+)_(?<namespace>[^_]+)_(?<container>[^_]+)-(?<container_id>[a-f0-9]{64})\\.log$";

export interface LogShipperConfigArgs {
  site: string;
  /** Namespace of the site's Loki, whose Service the output pushes to. */
  lokiNamespace: string;
  /** In-memory buffer of the tail input (Fluent Bit's MB = 10^6 bytes); past it the tail pauses instead of the pod growing. */
  memBufLimitMB: number;
}

/** `host` and `port` the Loki output pushes to: the site's Loki Service. */
export function lokiEndpoint(lokiNamespace: string): { host: string; port: number } {
  return { host: `${LOKI_SERVICE}.${lokiNamespace}.svc`, port: LOKI_PORT };
}

/**
 * Fluent Bit's YAML config. No kubernetes filter: it would need a token that
 * can list pods and namespaces cluster-wide, and the labels worth having
 * (namespace, pod, container) are already in the CRI file name. The tail's
 * offsets live in an emptyDir, so a crashed container resumes where it was;
 * a replaced pod starts at the files' ends (read_from_head off) rather than
 * re-sending up to 50 MiB of rotated logs per container to a 2C4G Loki.
 */
export function renderLogShipperConfig(a: LogShipperConfigArgs): string {
  const loki = lokiEndpoint(a.lokiNamespace);
  return stringify(
    {
      service: {
        flush: 1,
        log_level: "warn",
        http_server: "on",
        http_listen: "0.0.0.0",
        http_port: LOG_SHIPPER_PORT,
        // /api/v1/health turns to 500 after 5 output errors in 60 s (Loki refusing
        // what it is sent). An unreachable Loki means retries, which never run out
        // here, so an outage does not fail it (fluentbit_output_retries_total shows it).
        health_check: "on",
        hc_errors_count: 5,
        hc_retry_failure_count: 5,
        hc_period: 60,
      },
      parsers: [{ name: FILE_NAME_PARSER, format: "regex", regex: LOG_FILE_NAME_REGEX }],
      pipeline: {
        inputs: [
          {
            name: "tail",
            tag: "kube.*",
            path: CONTAINER_LOGS,
            path_key: "filename",
            // Reassembles lines containerd split into partial (P) records.
            "multiline.parser": "cri",
            db: `${STATE_DIR}/tail.db`,
            "db.locking": true,
            mem_buf_limit: `${a.memBufLimitMB}MB`,
            // One runaway line must not stall the file behind it.
            skip_long_lines: "on",
            refresh_interval: 10,
          },
        ],
        filters: [
          {
            name: "parser",
            match: "kube.*",
            key_name: "filename",
            parser: FILE_NAME_PARSER,
            reserve_data: "on",
          },
        ],
        outputs: [
          {
            name: "loki",
            match: "kube.*",
            host: loki.host,
            port: loki.port,
            labels:
              `job=${LOG_SHIPPER_APP}, site=${a.site}, node=\${NODE_NAME}, ` +
              "namespace=$namespace, pod=$pod, container=$container, stream=$stream",
            // What is left after these is the message alone, sent as the raw line.
            remove_keys: "filename, namespace, pod, container, container_id, stream, _p, time",
            drop_single_key: "raw",
            // The default (one retry) drops a chunk when Loki restarts; unlimited
            // retries are bounded by mem_buf_limit, past which the files wait on disk.
            retry_limit: "no_limits",
          },
        ],
      },
    },
    { lineWidth: 0 },
  );
}

export interface LogShipperRenderArgs extends LogShipperConfigArgs {
  namespace: string;
  /** Where the site's Prometheus runs: it scrapes the shipper's metrics. */
  monitoringNamespace: string;
  resources: ResourceSpec;
  image?: string;
}

export interface LogShipperManifests {
  serviceAccount: ServiceAccountManifest;
  configMap: ConfigMapManifest;
  daemonSet: DaemonSetManifest;
  networkPolicy: NetworkPolicyManifest;
  /** Cluster-scoped, and only needed where a node agent runs: it comes with the shipper. */
  priorityClass: PriorityClassManifest;
}

/**
 * Root, because kubelet/containerd write container logs 0640 root:root and
 * the mount is the host's; but root with every capability dropped (no
 * DAC_OVERRIDE: it reads those files as their owner, nothing more), no
 * privilege escalation, a read-only root filesystem and a read-only mount.
 */
export function logShipperSecurity(): SecurityContextManifest {
  return {
    runAsNonRoot: false,
    runAsUser: 0,
    runAsGroup: 0,
    privileged: false,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** A NetworkPolicy peer for the site's log shipper, for Loki to admit. */
export function logShipperPeer(namespace: string): NetworkPolicyPeerManifest {
  return appPeer(namespace, LOG_SHIPPER_APP);
}

export function renderLogShipper(a: LogShipperRenderArgs): LogShipperManifests {
  const labels = appLabels(LOG_SHIPPER_APP, "logging", a.site);
  const selector = selectorLabels(LOG_SHIPPER_APP);
  const meta = (name: string) => ({ name, namespace: a.namespace, labels });
  const cmName = "fluent-bit-config";
  const configMap: ConfigMapManifest = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(cmName),
    data: { "fluent-bit.yaml": renderLogShipperConfig(a) },
  };
  const daemonSet: DaemonSetManifest = {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: meta("fluent-bit"),
    spec: {
      selector: { matchLabels: selector },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels: { ...labels, ...selector } },
        spec: {
          // Its own account with no role bound and no token mounted: it never
          // calls the API server (no kubernetes filter), so it holds no credential.
          serviceAccountName: "fluent-bit",
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          priorityClassName: NODE_AGENT_PRIORITY_CLASS,
          nodeSelector: { "kubernetes.io/os": "linux" },
          // Every node, whatever the operator tainted it with (inventory taints
          // such as a dedicated gateway's): a pod that tolerated the taint still
          // writes logs there. The DaemonSet controller adds the not-ready,
          // unreachable and pressure tolerations itself.
          tolerations: [{ operator: "Exists" }],
          securityContext: { runAsNonRoot: false, runAsUser: 0, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "fluent-bit",
              image: a.image ?? LOG_SHIPPER_IMAGE,
              imagePullPolicy: "IfNotPresent",
              command: ["/fluent-bit/bin/fluent-bit"],
              args: ["-c", `${CONFIG_DIR}/fluent-bit.yaml`],
              env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
              ports: [{ name: "http", containerPort: LOG_SHIPPER_PORT, protocol: "TCP" }],
              resources: k8sResources(a.resources),
              securityContext: logShipperSecurity(),
              // Ready while Loki accepts what it sends (health check); alive while
              // the process serves HTTP, so trouble on Loki's side never restarts it.
              readinessProbe: {
                httpGet: { path: "/api/v1/health", port: "http" },
                periodSeconds: 10,
                failureThreshold: 3,
              },
              livenessProbe: {
                httpGet: { path: "/", port: "http" },
                initialDelaySeconds: 10,
                periodSeconds: 20,
                failureThreshold: 3,
              },
              volumeMounts: [
                { name: "varlog", mountPath: HOST_LOG_DIR, readOnly: true },
                { name: "config", mountPath: CONFIG_DIR, readOnly: true },
                { name: "state", mountPath: STATE_DIR },
              ],
            },
          ],
          volumes: [
            { name: "varlog", hostPath: { path: HOST_LOG_DIR, type: "Directory" } },
            { name: "config", configMap: { name: cmName } },
            { name: "state", emptyDir: { sizeLimit: "64Mi" } },
          ],
        },
      },
    },
  };
  return {
    serviceAccount: {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: meta("fluent-bit"),
      automountServiceAccountToken: false,
    },
    configMap,
    daemonSet: withConfigHash(daemonSet, configMap),
    priorityClass: renderNodeAgentPriorityClass(a.site),
    networkPolicy: {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta("fluent-bit"),
      spec: {
        podSelector: { matchLabels: selector },
        // Egress too: the one pod on every node that reads every container's
        // logs talks to Loki and DNS, nothing else.
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          { from: [prometheusPeer(a.monitoringNamespace)], ports: [{ protocol: "TCP", port: LOG_SHIPPER_PORT }] },
        ],
        egress: [
          {
            to: [appPeer(a.lokiNamespace, LOKI_APP)],
            ports: [{ protocol: "TCP", port: LOKI_PORT }],
          },
          {
            to: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
              },
            ],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      },
    },
  };
}
