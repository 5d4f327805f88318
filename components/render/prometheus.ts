import { stringify } from "yaml";
import type { Profile } from "../../config/profiles";
import { LOG_SHIPPER_APP, LOG_SHIPPER_METRICS_PATH } from "./logShipper";
import {
  appLabels,
  type ClusterRoleBindingManifest,
  type ClusterRoleManifest,
  type ConfigMapManifest,
  hardenedContainerSecurity,
  k8sResources,
  type ResourceSpec,
  selectorLabels,
  type ServiceAccountManifest,
  type ServiceManifest,
  type StatefulSetManifest,
  withConfigHash,
  dataVolumeClaim,
} from "./common";

export const PROMETHEUS_APP = "prometheus";
/** 2.53 is Prometheus's LTS line; Debian bookworm's promtool (2.42) checks its config format. */
export const PROMETHEUS_IMAGE = "prom/prometheus:v2.53.3";
const PROMETHEUS_UID = 65534;
export const PROMETHEUS_PORT = 9090;

export interface ScrapeTargets {
  /** Namespace of the trackers, Redis and RabbitMQ. */
  appNamespace: string;
  redis: boolean;
  rabbitmq: boolean;
  /** Namespace of the site's log shipper (Fluent Bit), when it runs one. */
  logShipperNamespace?: string;
}

/**
 * What each scrape job exports, as far as Edgefleet's dashboards and rules use
 * it. Tracker: our contract for the Wasm tracker (Prometheus client
 * conventions: a request counter with `code`, a latency histogram, process
 * start time). The others: the metric names of redis_exporter, RabbitMQ's
 * prometheus plugin (aggregated endpoint), the kubelet and cAdvisor.
 * The dashboard test fails when a query names a metric not listed for a job
 * the rendered config scrapes.
 */
export const JOB_METRICS: Record<string, string[]> = {
  tracker: [
    "http_requests_total",
    "http_request_duration_seconds_bucket",
    "http_request_duration_seconds_sum",
    "http_request_duration_seconds_count",
    "process_start_time_seconds",
  ],
  redis: [
    "redis_up",
    "redis_memory_used_bytes",
    "redis_memory_max_bytes",
    "redis_evicted_keys_total",
    "redis_keyspace_hits_total",
    "redis_keyspace_misses_total",
    "redis_connected_clients",
  ],
  rabbitmq: [
    "rabbitmq_build_info",
    "rabbitmq_connections",
    "rabbitmq_queue_messages_ready",
    "rabbitmq_queue_messages_unacked",
    "rabbitmq_process_resident_memory_bytes",
    "rabbitmq_resident_memory_limit_bytes",
    "rabbitmq_disk_space_available_bytes",
    "rabbitmq_alarms_memory_used_watermark",
    "rabbitmq_alarms_free_disk_space_watermark",
  ],
  kubelet: ["kubelet_running_pods", "kubelet_running_containers", "kubelet_node_name"],
  cadvisor: [
    "container_cpu_usage_seconds_total",
    "container_memory_working_set_bytes",
    "container_cpu_cfs_throttled_periods_total",
    "container_oom_events_total",
  ],
  prometheus: ["prometheus_tsdb_head_series", "prometheus_remote_storage_samples_pending"],
  "fluent-bit": [
    "fluentbit_uptime",
    "fluentbit_input_records_total",
    "fluentbit_input_bytes_total",
    "fluentbit_output_proc_records_total",
    "fluentbit_output_proc_bytes_total",
    "fluentbit_output_errors_total",
    "fluentbit_output_retries_total",
    "fluentbit_output_retries_failed_total",
    "fluentbit_output_dropped_records_total",
  ],
};

/** Series Prometheus makes for every target, whatever it exports. */
export const SYNTHETIC_METRICS = ["up", "scrape_duration_seconds", "scrape_samples_scraped"];

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

function podJob(job: string, namespace: string, app: string, portName: string, metricsPath?: string) {
  return {
    job_name: job,
    ...(metricsPath ? { metrics_path: metricsPath } : {}),
    kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [namespace] } }],
    relabel_configs: [
      { source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], regex: app, action: "keep" },
      { source_labels: ["__meta_kubernetes_pod_container_port_name"], regex: portName, action: "keep" },
      { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
      { source_labels: ["__meta_kubernetes_pod_node_name"], target_label: "node" },
    ],
  };
}

/** Kubelet endpoints through the API server proxy: TLS verified with the cluster CA, no node ports opened. */
function nodeProxyJob(job: string, path: string, saDir: string) {
  return {
    job_name: job,
    scheme: "https",
    tls_config: { ca_file: `${saDir}/ca.crt` },
    authorization: { credentials_file: `${saDir}/token` },
    kubernetes_sd_configs: [{ role: "node" }],
    relabel_configs: [
      { target_label: "__address__", replacement: "kubernetes.default.svc:443" },
      {
        source_labels: ["__meta_kubernetes_node_name"],
        regex: "(.+)",
        target_label: "__metrics_path__",
        replacement: `/api/v1/nodes/$1/proxy${path}`,
      },
      { source_labels: ["__meta_kubernetes_node_name"], target_label: "node" },
    ],
  };
}

export interface PrometheusConfigArgs {
  site: string;
  profile: string;
  targets: ScrapeTargets;
  scrapeIntervalSeconds?: number;
  /** Agent mode: no local rules or queries; samples go to remoteWriteUrl. */
  agentMode?: boolean;
  remoteWriteUrl?: string;
  rulesFile?: string;
  /** Where the pod's service account token and CA are (tests point it at a temp dir for promtool). */
  serviceAccountDir?: string;
}

export function renderPrometheusConfig(a: PrometheusConfigArgs): string {
  if (a.agentMode && !a.remoteWriteUrl) throw new Error("Prometheus agent mode needs remoteWriteUrl");
  if (a.remoteWriteUrl && !/^https?:\/\/[^\s]+$/.test(a.remoteWriteUrl)) {
    throw new Error(`remoteWriteUrl "${a.remoteWriteUrl}" is not an http(s) URL`);
  }
  const interval = a.scrapeIntervalSeconds ?? 30;
  const jobs: object[] = [
    podJob("tracker", a.targets.appNamespace, "tracker", "http"),
    ...(a.targets.redis ? [podJob("redis", a.targets.appNamespace, "redis", "metrics")] : []),
    ...(a.targets.rabbitmq ? [podJob("rabbitmq", a.targets.appNamespace, "rabbitmq", "prometheus")] : []),
    ...(a.targets.logShipperNamespace
      ? [podJob(LOG_SHIPPER_APP, a.targets.logShipperNamespace, LOG_SHIPPER_APP, "http", LOG_SHIPPER_METRICS_PATH)]
      : []),
    nodeProxyJob("kubelet", "/metrics", a.serviceAccountDir ?? SA_DIR),
    nodeProxyJob("cadvisor", "/metrics/cadvisor", a.serviceAccountDir ?? SA_DIR),
    { job_name: "prometheus", static_configs: [{ targets: [`localhost:${PROMETHEUS_PORT}`] }] },
  ];
  const config: Record<string, unknown> = {
    global: {
      scrape_interval: `${interval}s`,
      scrape_timeout: `${Math.min(10, interval)}s`,
      ...(a.agentMode ? {} : { evaluation_interval: `${interval}s` }),
      // The central store tells sites apart by these.
      external_labels: { site: a.site, profile: a.profile },
    },
    ...(a.agentMode ? {} : { rule_files: [a.rulesFile ?? "/etc/prometheus/rules/edgefleet.rules.yaml"] }),
    scrape_configs: jobs,
  };
  if (a.remoteWriteUrl) {
    config.remote_write = [
      {
        url: a.remoteWriteUrl,
        // Offline sites: keep retrying with backoff rather than dropping the WAL backlog.
        queue_config: { max_shards: 4, capacity: 2500, max_samples_per_send: 1000, max_backoff: "30s" },
      },
    ];
  }
  return stringify(config, { lineWidth: 0 });
}

/** Job names a rendered config scrapes. */
export function scrapedJobs(configYaml: string): string[] {
  const m = configYaml.matchAll(/job_name:\s*(\S+)/g);
  return [...m].map((x) => x[1]);
}

/** Metric names available to queries: what the scraped jobs export, synthetic series, recording rules. */
export function availableMetrics(configYaml: string, rulesYaml?: string): Set<string> {
  const out = new Set<string>(SYNTHETIC_METRICS);
  for (const job of scrapedJobs(configYaml)) {
    const metrics = JOB_METRICS[job];
    if (!metrics) throw new Error(`no metric list for scrape job ${job}`);
    metrics.forEach((m) => out.add(m));
  }
  if (rulesYaml) for (const m of rulesYaml.matchAll(/- record:\s*(\S+)/g)) out.add(m[1]);
  return out;
}

const TRACKER = 'job="tracker"';
const ERRORS = 'job="tracker",code=~"5.."';

export interface RulesArgs {
  profile: Pick<Profile, "name" | "slo">;
  redis: boolean;
  rabbitmq: boolean;
  /** The site ships logs (Fluent Bit, scrape job fluent-bit). */
  logShipper?: boolean;
}

/**
 * Recording and alerting rules for the cases' SLOs: P99 latency per profile
 * and 99.9% availability as multi-window error-budget burn rates (the Google
 * SRE workbook's 14.4x over 1 h/5 m pages, 6x over 6 h/30 m tickets).
 */
export function renderRules(a: RulesArgs): string {
  const { slo } = a.profile;
  const budget = +(1 - slo.availability).toFixed(6);
  const ratio = (w: string) => ({
    record: `job:tracker_http_errors:ratio_rate${w}`,
    expr: `sum(rate(http_requests_total{${ERRORS}}[${w}])) / sum(rate(http_requests_total{${TRACKER}}[${w}]))`,
  });
  const quantile = (q: number, name: string) => ({
    record: `job:tracker_http_request_duration_seconds:${name}_5m`,
    expr: `histogram_quantile(${q}, sum by (le) (rate(http_request_duration_seconds_bucket{${TRACKER}}[5m])))`,
  });
  const labels = { profile: a.profile.name };
  const groups: object[] = [
    {
      name: "edgefleet-tracker-records",
      rules: [
        { record: "job:tracker_http_requests:rate5m", expr: `sum(rate(http_requests_total{${TRACKER}}[5m]))` },
        ratio("5m"),
        ratio("30m"),
        ratio("1h"),
        ratio("6h"),
        quantile(0.5, "p50"),
        quantile(0.99, "p99"),
      ],
    },
    {
      name: "edgefleet-tracker-slo",
      rules: [
        {
          alert: "TrackerP99LatencyHigh",
          expr: `job:tracker_http_request_duration_seconds:p99_5m > ${slo.p99LatencyMs / 1000}`,
          for: "10m",
          labels: { ...labels, severity: "warning" },
          annotations: {
            summary: `Tracker P99 latency above the ${a.profile.name} SLO of ${slo.p99LatencyMs} ms`,
            description: "P99 over 5 m is {{ $value | humanizeDuration }}.",
          },
        },
        {
          alert: "TrackerErrorBudgetBurnFast",
          expr:
            `job:tracker_http_errors:ratio_rate1h > ${14.4 * budget} and ` +
            `job:tracker_http_errors:ratio_rate5m > ${14.4 * budget}`,
          for: "2m",
          labels: { ...labels, severity: "critical" },
          annotations: { summary: `Burning the ${slo.availability * 100}% availability budget 14.4x too fast` },
        },
        {
          alert: "TrackerErrorBudgetBurnSlow",
          expr:
            `job:tracker_http_errors:ratio_rate6h > ${6 * budget} and ` +
            `job:tracker_http_errors:ratio_rate30m > ${6 * budget}`,
          for: "15m",
          labels: { ...labels, severity: "warning" },
          annotations: { summary: `Burning the ${slo.availability * 100}% availability budget 6x too fast` },
        },
        {
          alert: "TrackerDown",
          expr: `sum(up{${TRACKER}}) == 0 or absent(up{${TRACKER}})`,
          for: "5m",
          labels: { ...labels, severity: "critical" },
          annotations: { summary: "No tracker target is up" },
        },
        {
          alert: "TrackerRestarting",
          expr: `sum by (pod) (changes(process_start_time_seconds{${TRACKER}}[30m])) > 2`,
          labels: { ...labels, severity: "warning" },
          annotations: { summary: "Tracker {{ $labels.pod }} restarted more than twice in 30 m" },
        },
      ],
    },
  ];
  const deps: object[] = [];
  if (a.redis) {
    deps.push({
      alert: "RedisDown",
      expr: "redis_up == 0",
      for: "5m",
      labels: { ...labels, severity: "critical" },
      annotations: { summary: "Redis is down" },
    });
  }
  if (a.rabbitmq) {
    deps.push({
      alert: "RabbitmqResourceAlarm",
      expr: "rabbitmq_alarms_memory_used_watermark == 1 or rabbitmq_alarms_free_disk_space_watermark == 1",
      for: "5m",
      labels: { ...labels, severity: "critical" },
      annotations: { summary: "RabbitMQ blocks publishers (memory or disk alarm)" },
    });
  }
  if (deps.length) groups.push({ name: "edgefleet-dependencies", rules: deps });
  if (a.logShipper) groups.push({ name: "edgefleet-log-shipper", rules: logShipperRules(labels) });
  return stringify({ groups }, { lineWidth: 0 });
}

const SHIPPER = `job="${LOG_SHIPPER_APP}"`;

/**
 * Grouped by site too: a central store evaluating these (agent mode) holds
 * every site's series, told apart by the site external label, and node and pod
 * names repeat across sites. On the site's own Prometheus the label is absent.
 */
const BY_NODE = "site, node";

/** Fluent Bit's own counters, per shipper pod. */
const perShipper = (metric: string, window: string) =>
  `sum by (${BY_NODE}, pod) (increase(${metric}{${SHIPPER}}[${window}]))`;

/**
 * Logs the site loses or does not get. The output retries without limit, so
 * an unreachable Loki shows as retries with nothing delivered rather than as
 * drops; drops are chunks Loki refused or (should the limit ever be set)
 * whose retries ran out, and are gone for good.
 */
function logShipperRules(labels: Record<string, string>): object[] {
  return [
    {
      // Once a node's kubelet answers, it must have a shipper that answers too. A shipper
      // pod left Pending has no IP and so no target: up == 0 alone would never see it.
      alert: "LogShipperMissing",
      expr:
        `(max by (${BY_NODE}) (up{job="kubelet"}) == 1) unless on (${BY_NODE}) ` +
        `(max by (${BY_NODE}) (up{${SHIPPER}}) == 1)`,
      for: "10m",
      labels: { ...labels, severity: "warning" },
      annotations: {
        summary: "No log shipper up on node {{ $labels.node }}",
        description:
          "Its container logs reach Loki only once one runs, and only what kubelet has not yet rotated away.",
      },
    },
    {
      alert: "LogShipperDroppingLogs",
      expr:
        `${perShipper("fluentbit_output_dropped_records_total", "10m")} > 0 or ` +
        `${perShipper("fluentbit_output_retries_failed_total", "10m")} > 0`,
      labels: { ...labels, severity: "warning" },
      annotations: {
        summary: "Log shipper {{ $labels.pod }} on {{ $labels.node }} dropped logs Loki did not take",
      },
    },
    {
      // Retrying while delivering nothing: the tail pauses at its memory buffer and the
      // node's logs wait in files that kubelet rotates away.
      alert: "LogShipperStalled",
      expr:
        `${perShipper("fluentbit_output_retries_total", "10m")} > 0 unless ` +
        `${perShipper("fluentbit_output_proc_records_total", "10m")} > 0`,
      for: "10m",
      labels: { ...labels, severity: "warning" },
      annotations: {
        summary: "Log shipper {{ $labels.pod }} on {{ $labels.node }} retries and delivers nothing to Loki",
      },
    },
  ];
}

export interface PrometheusRenderArgs extends PrometheusConfigArgs {
  namespace: string;
  resources: ResourceSpec;
  storageGi: number;
  retentionTime: string;
  image?: string;
}

export interface PrometheusManifests {
  serviceAccount: ServiceAccountManifest;
  clusterRole: ClusterRoleManifest;
  clusterRoleBinding: ClusterRoleBindingManifest;
  configMap: ConfigMapManifest;
  statefulSet: StatefulSetManifest;
  service: ServiceManifest;
}

/** TSDB size cap: 75% of the volume, leaving room for the WAL and compaction. */
export function retentionSize(storageGi: number): string {
  return `${Math.floor(storageGi * 1024 * 0.75)}MB`;
}

export function renderPrometheus(a: PrometheusRenderArgs, rules: string): PrometheusManifests {
  const labels = appLabels(PROMETHEUS_APP, "monitoring", a.site);
  const selector = selectorLabels(PROMETHEUS_APP);
  const meta = (name: string) => ({ name, namespace: a.namespace, labels });
  const name = `edgefleet-prometheus-${a.namespace}`;
  const storageArgs = a.agentMode
    ? [
        "--enable-feature=agent",
        "--storage.agent.path=/prometheus",
        // Hold samples through an uplink outage longer than the factory case's 24 h.
        `--storage.agent.retention.max-time=${a.retentionTime}`,
      ]
    : [
        "--storage.tsdb.path=/prometheus",
        `--storage.tsdb.retention.time=${a.retentionTime}`,
        `--storage.tsdb.retention.size=${retentionSize(a.storageGi)}`,
      ];
  const data: Record<string, string> = { "prometheus.yml": renderPrometheusConfig(a) };
  if (!a.agentMode) data["edgefleet.rules.yaml"] = rules;
  const out: PrometheusManifests = {
    serviceAccount: { apiVersion: "v1", kind: "ServiceAccount", metadata: meta("prometheus") },
    clusterRole: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name, labels },
      rules: [
        { apiGroups: [""], resources: ["nodes", "pods", "endpoints", "services"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["nodes/proxy", "nodes/metrics"], verbs: ["get"] },
      ],
    },
    clusterRoleBinding: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", name: "prometheus", namespace: a.namespace }],
    },
    configMap: { apiVersion: "v1", kind: "ConfigMap", metadata: meta("prometheus-config"), data },
    statefulSet: {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta("prometheus"),
      spec: {
        serviceName: "prometheus",
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: { ...labels, ...selector } },
          spec: {
            serviceAccountName: "prometheus",
            securityContext: {
              runAsNonRoot: true,
              fsGroup: PROMETHEUS_UID,
              seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [
              {
                name: "prometheus",
                image: a.image ?? PROMETHEUS_IMAGE,
                imagePullPolicy: "IfNotPresent",
                args: [
                  "--config.file=/etc/prometheus/prometheus.yml",
                  `--web.listen-address=:${PROMETHEUS_PORT}`,
                  ...storageArgs,
                ],
                env: [{ name: "GOMEMLIMIT", value: `${Math.floor(a.resources.limits.memoryMiB * 0.85)}MiB` }],
                ports: [{ name: "http", containerPort: PROMETHEUS_PORT }],
                resources: k8sResources(a.resources),
                securityContext: hardenedContainerSecurity(PROMETHEUS_UID),
                readinessProbe: { httpGet: { path: "/-/ready", port: "http" }, periodSeconds: 10 },
                livenessProbe: {
                  httpGet: { path: "/-/healthy", port: "http" },
                  initialDelaySeconds: 30,
                  periodSeconds: 15,
                  failureThreshold: 4,
                },
                volumeMounts: [
                  {
                    name: "config",
                    mountPath: "/etc/prometheus/prometheus.yml",
                    subPath: "prometheus.yml",
                    readOnly: true,
                  },
                  ...(a.agentMode
                    ? []
                    : [
                        {
                          name: "config",
                          mountPath: "/etc/prometheus/rules/edgefleet.rules.yaml",
                          subPath: "edgefleet.rules.yaml",
                          readOnly: true,
                        },
                      ]),
                  { name: "data", mountPath: "/prometheus" },
                ],
              },
            ],
            volumes: [{ name: "config", configMap: { name: "prometheus-config" } }],
          },
        },
        volumeClaimTemplates: [dataVolumeClaim(a.storageGi)],
      },
    },
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("prometheus"),
      spec: { selector, ports: [{ name: "http", port: PROMETHEUS_PORT, targetPort: "http" }] },
    },
  };
  withConfigHash(out.statefulSet, out.configMap);
  return out;
}
