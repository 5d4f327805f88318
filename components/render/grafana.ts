import { stringify } from "yaml";
import {
  appLabels,
  appPeer,
  type ConfigMapManifest,
  type DeploymentManifest,
  hardenedContainerSecurity,
  k8sResources,
  type ResourceSpec,
  selectorLabels,
  type ServiceManifest,
  withConfigHash,
} from "./common";

export const GRAFANA_APP = "grafana";
export const GRAFANA_IMAGE = "grafana/grafana:11.4.0";
const GRAFANA_UID = 472;
export const GRAFANA_PORT = 3000;
export const GRAFANA_ADMIN_SECRET = "grafana-admin";
export const DATASOURCE_UID = "edgefleet-prometheus";
export const LOKI_DATASOURCE_UID = "edgefleet-loki";

/**
 * Prometheus, and Loki where the site runs one. Both are `access: proxy`:
 * queries leave from Grafana's pod, not the operator's browser, so a
 * port-forward to Grafana is all an operator needs, and Loki's
 * NetworkPolicy has Grafana's pods to admit.
 */
export function renderDatasources(prometheusUrl: string, lokiUrl?: string): string {
  return stringify({
    apiVersion: 1,
    datasources: [
      {
        name: "Prometheus",
        uid: DATASOURCE_UID,
        type: "prometheus",
        access: "proxy",
        url: prometheusUrl,
        isDefault: true,
        editable: false,
        jsonData: { timeInterval: "30s" },
      },
      ...(lokiUrl
        ? [
            {
              name: "Loki",
              uid: LOKI_DATASOURCE_UID,
              type: "loki",
              access: "proxy",
              url: lokiUrl,
              isDefault: false,
              editable: false,
            },
          ]
        : []),
    ],
  });
}

/** A NetworkPolicy peer for the site's Grafana, for the backends it queries to admit. */
export function grafanaPeer(namespace: string) {
  return appPeer(namespace, GRAFANA_APP);
}

export function renderDashboardProvider(): string {
  return stringify({
    apiVersion: 1,
    providers: [
      {
        name: "edgefleet",
        folder: "Edgefleet",
        type: "file",
        disableDeletion: true,
        allowUiUpdates: false,
        options: { path: "/var/lib/grafana-dashboards" },
      },
    ],
  });
}

interface Panel {
  title: string;
  unit: string;
  exprs: { expr: string; legend: string }[];
}

/** The tracker dashboard: QPS, P50/P99 latency against the SLO, errors, restarts, per-node CPU and memory. */
export function renderTrackerDashboard(p99SloMs: number): string {
  const ds = { type: "prometheus", uid: DATASOURCE_UID };
  const panels: Panel[] = [
    {
      title: "Requests per second",
      unit: "reqps",
      exprs: [{ expr: 'sum(rate(http_requests_total{job="tracker"}[5m]))', legend: "QPS" }],
    },
    {
      title: "Latency P50 / P99",
      unit: "s",
      exprs: [
        {
          expr: 'histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{job="tracker"}[5m])))',
          legend: "P50",
        },
        {
          expr: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="tracker"}[5m])))',
          legend: "P99",
        },
        { expr: `vector(${p99SloMs / 1000})`, legend: "P99 SLO" },
      ],
    },
    {
      title: "Error ratio (5xx)",
      unit: "percentunit",
      exprs: [
        {
          expr: 'sum(rate(http_requests_total{job="tracker",code=~"5.."}[5m])) / sum(rate(http_requests_total{job="tracker"}[5m]))',
          legend: "errors",
        },
      ],
    },
    {
      title: "Tracker restarts (1 h)",
      unit: "short",
      exprs: [{ expr: 'sum by (pod) (changes(process_start_time_seconds{job="tracker"}[1h]))', legend: "{{pod}}" }],
    },
    {
      title: "Node CPU (cores)",
      unit: "short",
      exprs: [
        {
          expr: 'sum by (node) (rate(container_cpu_usage_seconds_total{job="cadvisor",id="/"}[5m]))',
          legend: "{{node}}",
        },
      ],
    },
    {
      title: "Node memory (working set)",
      unit: "bytes",
      exprs: [
        { expr: 'sum by (node) (container_memory_working_set_bytes{job="cadvisor",id="/"})', legend: "{{node}}" },
      ],
    },
  ];
  const dashboard = {
    uid: "edgefleet-tracker",
    title: "Edgefleet tracker",
    schemaVersion: 39,
    version: 1,
    editable: false,
    time: { from: "now-6h", to: "now" },
    refresh: "30s",
    tags: ["edgefleet"],
    panels: panels.map((p, i) => ({
      id: i + 1,
      type: "timeseries",
      title: p.title,
      datasource: ds,
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: p.exprs.map((e, j) => ({
        refId: String.fromCharCode(65 + j),
        datasource: ds,
        expr: e.expr,
        legendFormat: e.legend,
      })),
    })),
  };
  return JSON.stringify(dashboard, null, 2) + "\n";
}

/** Every PromQL expression of a dashboard JSON. */
export function dashboardExprs(json: string): string[] {
  const d = JSON.parse(json) as { panels: { targets?: { expr?: string }[] }[] };
  return d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr).filter((e): e is string => !!e));
}

export interface GrafanaRenderArgs {
  site: string;
  namespace: string;
  prometheusUrl: string;
  /** The site's Loki, when it runs one: provisioned as a second datasource. */
  lokiUrl?: string;
  p99SloMs: number;
  resources: ResourceSpec;
  image?: string;
}

export interface GrafanaManifests {
  configMap: ConfigMapManifest;
  dashboards: ConfigMapManifest;
  deployment: DeploymentManifest;
  service: ServiceManifest;
}

export function renderGrafana(a: GrafanaRenderArgs): GrafanaManifests {
  const labels = appLabels(GRAFANA_APP, "monitoring", a.site);
  const selector = selectorLabels(GRAFANA_APP);
  const meta = (name: string) => ({ name, namespace: a.namespace, labels });
  const env = (name: string, value: string) => ({ name, value });
  const out: GrafanaManifests = {
    configMap: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta("grafana-provisioning"),
      data: {
        "datasources.yaml": renderDatasources(a.prometheusUrl, a.lokiUrl),
        "dashboards.yaml": renderDashboardProvider(),
      },
    },
    dashboards: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta("grafana-dashboards"),
      data: { "tracker.json": renderTrackerDashboard(a.p99SloMs) },
    },
    deployment: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta("grafana"),
      spec: {
        replicas: 1,
        selector: { matchLabels: selector },
        strategy: { type: "Recreate" },
        template: {
          metadata: { labels: { ...labels, ...selector } },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: { runAsNonRoot: true, fsGroup: GRAFANA_UID, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "grafana",
                image: a.image ?? GRAFANA_IMAGE,
                imagePullPolicy: "IfNotPresent",
                env: [
                  // __FILE: Grafana reads the password from the mounted Secret, never from env or argv.
                  env("GF_SECURITY_ADMIN_USER", "admin"),
                  env("GF_SECURITY_ADMIN_PASSWORD__FILE", "/etc/grafana-admin/password"),
                  env("GF_PATHS_PROVISIONING", "/etc/grafana/provisioning"),
                  env("GF_PATHS_DATA", "/var/lib/grafana"),
                  env("GF_LOG_MODE", "console"),
                  // Offline sites: no phoning home.
                  env("GF_ANALYTICS_REPORTING_ENABLED", "false"),
                  env("GF_ANALYTICS_CHECK_FOR_UPDATES", "false"),
                  env("GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES", "false"),
                  env("GF_AUTH_ANONYMOUS_ENABLED", "false"),
                ],
                ports: [{ name: "http", containerPort: GRAFANA_PORT }],
                resources: k8sResources(a.resources),
                securityContext: hardenedContainerSecurity(GRAFANA_UID),
                readinessProbe: { httpGet: { path: "/api/health", port: "http" }, periodSeconds: 10 },
                livenessProbe: {
                  httpGet: { path: "/api/health", port: "http" },
                  initialDelaySeconds: 30,
                  periodSeconds: 20,
                },
                volumeMounts: [
                  {
                    name: "provisioning",
                    mountPath: "/etc/grafana/provisioning/datasources/datasources.yaml",
                    subPath: "datasources.yaml",
                    readOnly: true,
                  },
                  {
                    name: "provisioning",
                    mountPath: "/etc/grafana/provisioning/dashboards/dashboards.yaml",
                    subPath: "dashboards.yaml",
                    readOnly: true,
                  },
                  { name: "dashboards", mountPath: "/var/lib/grafana-dashboards", readOnly: true },
                  { name: "admin", mountPath: "/etc/grafana-admin", readOnly: true },
                  // Dashboards are provisioned, so Grafana's own DB can be ephemeral.
                  { name: "data", mountPath: "/var/lib/grafana" },
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              { name: "provisioning", configMap: { name: "grafana-provisioning" } },
              { name: "dashboards", configMap: { name: "grafana-dashboards" } },
              { name: "admin", secret: { secretName: GRAFANA_ADMIN_SECRET } },
              { name: "data", emptyDir: { sizeLimit: "256Mi" } },
              { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
            ],
          },
        },
      },
    },
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("grafana"),
      spec: { selector, ports: [{ name: "http", port: 80, targetPort: "http" }] },
    },
  };
  withConfigHash(out.deployment, out.configMap, out.dashboards);
  return out;
}
