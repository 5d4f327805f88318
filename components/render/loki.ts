import type * as k8s from "@pulumi/kubernetes";
import { stringify } from "yaml";
import {
  appLabels,
  type ConfigMapManifest,
  hardenedContainerSecurity,
  k8sResources,
  type NetworkPolicyManifest,
  type Plain,
  type ResourceSpec,
  selectorLabels,
  type ServiceManifest,
  type StatefulSetManifest,
  withConfigHash,
  dataVolumeClaim,
} from "./common";

export const LOKI_APP = "loki";
export const LOKI_IMAGE = "grafana/loki:3.3.2";
const LOKI_UID = 10001;
export const LOKI_PORT = 3100;
export const LOKI_SERVICE = "loki";

/** The site's Loki as its clients address it (Service DNS name and port). */
export function lokiUrl(namespace: string): string {
  return `http://${LOKI_SERVICE}.${namespace}.svc:${LOKI_PORT}`;
}

/**
 * Single-binary Loki on the local filesystem (target=all), sized for a 2C4G
 * factory node: in-memory ring, TSDB index, a small embedded results cache,
 * retention by the compactor so the volume cannot fill during a long offline
 * period.
 */
export function renderLokiConfig(a: { retentionHours: number }): string {
  return stringify({
    auth_enabled: false,
    server: { http_listen_port: LOKI_PORT, grpc_listen_port: 9095, log_level: "warn" },
    common: {
      path_prefix: "/loki",
      replication_factor: 1,
      ring: { instance_addr: "127.0.0.1", kvstore: { store: "inmemory" } },
      storage: { filesystem: { chunks_directory: "/loki/chunks", rules_directory: "/loki/rules" } },
    },
    schema_config: {
      configs: [
        {
          from: "2024-01-01",
          store: "tsdb",
          object_store: "filesystem",
          schema: "v13",
          index: { prefix: "index_", period: "24h" },
        },
      ],
    },
    limits_config: {
      retention_period: `${a.retentionHours}h`,
      ingestion_rate_mb: 2,
      ingestion_burst_size_mb: 4,
      max_query_series: 500,
      allow_structured_metadata: true,
    },
    compactor: {
      working_directory: "/loki/compactor",
      retention_enabled: true,
      delete_request_store: "filesystem",
    },
    query_range: { results_cache: { cache: { embedded_cache: { enabled: true, max_size_mb: 32 } } } },
    pattern_ingester: { enabled: false },
    analytics: { reporting_enabled: false },
  });
}

export interface LokiRenderArgs {
  site: string;
  namespace: string;
  resources: ResourceSpec;
  storageGi: number;
  retentionHours: number;
  image?: string;
  /** Who may push logs (the site's log shipper). */
  pushFrom?: Plain<k8s.types.input.networking.v1.NetworkPolicyPeer>[];
  /**
   * Who may query (the site's Grafana). With neither, nobody is admitted:
   * `kubectl port-forward` still reaches Loki, as network policies do not see it.
   */
  queryFrom?: Plain<k8s.types.input.networking.v1.NetworkPolicyPeer>[];
}

export interface LokiManifests {
  configMap: ConfigMapManifest;
  statefulSet: StatefulSetManifest;
  service: ServiceManifest;
  networkPolicy: NetworkPolicyManifest;
}

export function renderLoki(a: LokiRenderArgs): LokiManifests {
  const labels = appLabels(LOKI_APP, "logging", a.site);
  const selector = selectorLabels(LOKI_APP);
  const meta = (name: string) => ({ name, namespace: a.namespace, labels });
  const peers = [...(a.pushFrom ?? []), ...(a.queryFrom ?? [])];
  const out: LokiManifests = {
    configMap: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta("loki-config"),
      data: { "loki.yaml": renderLokiConfig({ retentionHours: a.retentionHours }) },
    },
    statefulSet: {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta("loki"),
      spec: {
        serviceName: "loki",
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: { ...labels, ...selector } },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: { runAsNonRoot: true, fsGroup: LOKI_UID, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "loki",
                image: a.image ?? LOKI_IMAGE,
                imagePullPolicy: "IfNotPresent",
                args: ["-config.file=/etc/loki/loki.yaml", "-target=all"],
                env: [{ name: "GOMEMLIMIT", value: `${Math.floor(a.resources.limits.memoryMiB * 0.85)}MiB` }],
                ports: [{ name: "http", containerPort: LOKI_PORT }],
                resources: k8sResources(a.resources),
                securityContext: hardenedContainerSecurity(LOKI_UID),
                readinessProbe: {
                  httpGet: { path: "/ready", port: "http" },
                  initialDelaySeconds: 15,
                  periodSeconds: 10,
                },
                livenessProbe: {
                  httpGet: { path: "/ready", port: "http" },
                  initialDelaySeconds: 60,
                  periodSeconds: 30,
                  failureThreshold: 5,
                },
                volumeMounts: [
                  { name: "config", mountPath: "/etc/loki", readOnly: true },
                  { name: "data", mountPath: "/loki" },
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              { name: "config", configMap: { name: "loki-config" } },
              { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
            ],
          },
        },
        volumeClaimTemplates: [dataVolumeClaim(a.storageGi)],
      },
    },
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(LOKI_SERVICE),
      spec: { selector, ports: [{ name: "http", port: LOKI_PORT, targetPort: "http" }] },
    },
    networkPolicy: {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta("loki"),
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ["Ingress"],
        // Loki runs with auth_enabled: false, so whoever reaches 3100 can write
        // and read every stream; only the shipper and Grafana get there. One port
        // serves both push and query, so Grafana could push too: it is the site's
        // own, behind its admin password.
        ingress: peers.length ? [{ from: peers, ports: [{ protocol: "TCP", port: LOKI_PORT }] }] : [],
      },
    },
  };
  withConfigHash(out.statefulSet, out.configMap);
  return out;
}
