import { TRACKER_NODE_SELECTOR } from "../../config/edgeNodes";
import type { TrackerSettings } from "../../config/profiles";
import {
  appLabels,
  type ConfigMapManifest,
  type DeploymentManifest,
  hardenedContainerSecurity,
  type HpaManifest,
  k8sResources,
  type PdbManifest,
  type ResourceSpec,
  selectorLabels,
  type ServiceManifest,
  withConfigHash,
} from "./common";

export const TRACKER_APP = "tracker";
export const TRACKER_PORT = 8080;
/** Non-root UID for the tracker; infra/ creates the factory hostPath owned by it. */
export const TRACKER_UID = 65532;

export interface TrackerRenderArgs {
  site: string;
  namespace: string;
  image: string;
  replicas: number;
  hpaMaxReplicas: number;
  targetCpuUtilizationPercent: number;
  resources: ResourceSpec;
  settings: TrackerSettings;
  runtimeClassName: string;
  /** Node-local SQLite directory (factory); undefined = emptyDir. */
  sqliteHostPath?: string;
  /** In-cluster endpoints the tracker talks to (set only when the service exists). */
  endpoints: { redis?: string; rabbitmq?: string; opa?: string };
  /** Secret names whose keys become env (REDIS_PASSWORD, AMQP_URL ...). */
  secretEnv?: { name: string; secret: string; key: string }[];
}

export interface TrackerManifests {
  configMap: ConfigMapManifest;
  deployment: DeploymentManifest;
  service: ServiceManifest;
  pdb: PdbManifest;
  hpa: HpaManifest;
}

const bool = (b: boolean) => (b ? "true" : "false");

/** The ConfigMap data: the cases' keys verbatim, plus the factory case's config.json shape for every profile. */
export function renderTrackerConfig(
  s: TrackerSettings,
  endpoints: TrackerRenderArgs["endpoints"],
): Record<string, string> {
  const data: Record<string, string> = {
    cache_enabled: bool(s.cacheEnabled),
    cache_ttl: s.cacheTtl,
    max_connections: String(s.maxConnections),
    query_timeout: s.queryTimeout,
    sync_enabled: bool(s.syncEnabled),
    sync_interval: s.syncInterval,
    offline_mode: bool(s.offlineMode),
    local_storage: bool(s.localStorage),
    database_path: s.databasePath,
  };
  if (endpoints.redis) data.redis_addr = endpoints.redis;
  if (endpoints.rabbitmq) data.amqp_addr = endpoints.rabbitmq;
  if (endpoints.opa) data.opa_url = endpoints.opa;
  data["config.json"] =
    JSON.stringify(
      {
        database: { type: "sqlite", path: s.databasePath },
        offline: { enabled: s.offlineMode, sync_interval: durationSeconds(s.syncInterval) },
        cache: { enabled: s.cacheEnabled, ttl: s.cacheTtl },
        server: { port: TRACKER_PORT, max_connections: s.maxConnections, query_timeout: s.queryTimeout },
      },
      null,
      2,
    ) + "\n";
  return data;
}

export function durationSeconds(d: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(d);
  if (!m) throw new Error(`duration "${d}" is not <int>(ms|s|m|h)`);
  const n = Number(m[1]);
  return { ms: n / 1000, s: n, m: n * 60, h: n * 3600 }[m[2] as "ms" | "s" | "m" | "h"];
}

export function renderTracker(a: TrackerRenderArgs): TrackerManifests {
  if (a.replicas < 1) throw new Error(`tracker replicas must be >= 1, got ${a.replicas}`);
  if (a.hpaMaxReplicas < a.replicas) {
    throw new Error(`HPA maxReplicas ${a.hpaMaxReplicas} is below minReplicas ${a.replicas}`);
  }
  durationSeconds(a.settings.cacheTtl);
  durationSeconds(a.settings.queryTimeout);
  const labels = appLabels(TRACKER_APP, "tracker", a.site);
  const selector = selectorLabels(TRACKER_APP);
  const cmName = "tracker-config";
  const meta = (name: string) => ({ name, namespace: a.namespace, labels });

  const dataVolume = a.sqliteHostPath
    ? {
        name: "data",
        // type Directory, not DirectoryOrCreate: a kubelet-created directory is
        // root-owned and the non-root tracker could not write it; infra/ creates it
        // owned by TRACKER_UID, and a missing directory fails loudly instead.
        hostPath: { path: a.sqliteHostPath, type: "Directory" },
      }
    : { name: "data", emptyDir: { sizeLimit: "256Mi" } };

  const deployment: DeploymentManifest = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta("tracker"),
    spec: {
      // The HPA owns the count after creation; this is its floor.
      replicas: a.replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: { ...labels, ...selector },
          annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(TRACKER_PORT) },
        },
        spec: {
          runtimeClassName: a.runtimeClassName,
          // Which nodes carry it is config/edgeNodes.ts's rule.
          nodeSelector: { ...TRACKER_NODE_SELECTOR },
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: TRACKER_UID,
            runAsGroup: TRACKER_UID,
            fsGroup: TRACKER_UID,
            seccompProfile: { type: "RuntimeDefault" },
          },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              // Honour taints so a NotReady (tainted) node of an offline site does
              // not hold new replicas Pending.
              whenUnsatisfiable: "DoNotSchedule",
              nodeTaintsPolicy: "Honor",
              labelSelector: { matchLabels: selector },
              matchLabelKeys: ["pod-template-hash"],
            },
          ],
          containers: [
            {
              name: "tracker",
              image: a.image,
              imagePullPolicy: "IfNotPresent",
              ports: [{ name: "http", containerPort: TRACKER_PORT, protocol: "TCP" }],
              envFrom: [{ configMapRef: { name: cmName } }],
              env: (a.secretEnv ?? []).map((e) => ({
                name: e.name,
                valueFrom: { secretKeyRef: { name: e.secret, key: e.key } },
              })),
              resources: k8sResources(a.resources),
              securityContext: hardenedContainerSecurity(TRACKER_UID),
              readinessProbe: {
                httpGet: { path: "/readyz", port: "http" },
                periodSeconds: 5,
                timeoutSeconds: 1,
                failureThreshold: 3,
              },
              livenessProbe: {
                httpGet: { path: "/healthz", port: "http" },
                initialDelaySeconds: 5,
                periodSeconds: 10,
                timeoutSeconds: 2,
                failureThreshold: 3,
              },
              volumeMounts: [
                { name: "data", mountPath: "/data" },
                { name: "config", mountPath: "/etc/tracker", readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            dataVolume,
            { name: "config", configMap: { name: cmName, items: [{ key: "config.json", path: "config.json" }] } },
            { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
          ],
        },
      },
    },
  };

  const configMap: ConfigMapManifest = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(cmName),
    data: renderTrackerConfig(a.settings, a.endpoints),
  };
  return {
    configMap,
    deployment: withConfigHash(deployment, configMap),
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("tracker"),
      spec: { selector, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
    },
    pdb: {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta("tracker"),
      // maxUnavailable, not minAvailable: a one-replica site must still let a node drain.
      spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    },
    hpa: {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: meta("tracker"),
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "tracker" },
        minReplicas: a.replicas,
        maxReplicas: a.hpaMaxReplicas,
        metrics: [
          {
            type: "Resource",
            resource: {
              name: "cpu",
              target: { type: "Utilization", averageUtilization: a.targetCpuUtilizationPercent },
            },
          },
        ],
        behavior: {
          // Scale down slowly: a flapping uplink should not churn pods.
          scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] },
        },
      },
    },
  };
}
