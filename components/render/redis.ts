import type { RedisPersistence } from "../../config/profiles";
import {
  appLabels,
  appPeer,
  type ConfigMapManifest,
  hardenedContainerSecurity,
  k8sResources,
  type NetworkPolicyManifest,
  type ResourceSpec,
  selectorLabels,
  type ServiceManifest,
  type StatefulSetManifest,
  withConfigHash,
  dataVolumeClaim,
} from "./common";
import { MiB } from "../../config/quantity";
import { TRACKER_APP } from "./tracker";

export const REDIS_APP = "redis";
export const REDIS_PORT = 6379;
export const REDIS_EXPORTER_PORT = 9121;
/** Official image, pinned. 7.2 is the line the cases name. */
export const REDIS_IMAGE = "redis:7.2.7-alpine";
export const REDIS_EXPORTER_IMAGE = "oliver006/redis_exporter:v1.66.0";
/** UID of the `redis` user in the official image. */
const REDIS_UID = 999;
const EXPORTER_UID = 59000;
export const REDIS_AUTH_SECRET = "redis-auth";
export const REDIS_AUTH_INCLUDE = "/etc/redis/auth/auth.conf";
export const EXPORTER_RESOURCES: ResourceSpec = {
  // Limit at most 5x the request: the policies' bound (policies/thresholds.ts).
  requests: { cpuMillis: 20, memoryMiB: 32 },
  limits: { cpuMillis: 100, memoryMiB: 64 },
};

/**
 * maxmemory from the container's memory limit, leaving headroom the limit must
 * also hold: allocator fragmentation, client output buffers and the
 * replication/AOF buffers (25% without persistence), and with persistence the
 * fork for BGSAVE/BGREWRITEAOF, whose copy-on-write pages can approach the
 * dataset's size under heavy writes (50%).
 */
export function redisMaxmemoryBytes(limitMiB: number, persistence: RedisPersistence): number {
  const ratio = persistence === "none" ? 0.75 : 0.5;
  return Math.floor(limitMiB * ratio) * MiB;
}

export interface RedisConfArgs {
  memoryLimitMiB: number;
  persistence: RedisPersistence;
  /** Where the Secret with `requirepass` is mounted; the password never enters the ConfigMap. */
  authInclude?: string;
  port?: number;
  dir?: string;
}

export function renderRedisConf(a: RedisConfArgs): string {
  const lines = [
    "# Rendered by Edgefleet components/render/redis.ts",
    "bind 0.0.0.0",
    `port ${a.port ?? REDIS_PORT}`,
    "protected-mode yes",
    "tcp-keepalive 60",
    "timeout 0",
    'logfile ""',
    "loglevel notice",
    `dir ${a.dir ?? "/data"}`,
    `maxmemory ${redisMaxmemoryBytes(a.memoryLimitMiB, a.persistence)}`,
    "maxmemory-policy allkeys-lru",
    "maxmemory-samples 5",
    "lazyfree-lazy-eviction yes",
  ];
  switch (a.persistence) {
    case "none":
      lines.push('save ""', "appendonly no");
      break;
    case "rdb":
      lines.push("save 900 1 300 100 60 10000", "appendonly no", "stop-writes-on-bgsave-error yes");
      break;
    case "aof":
      // AOF everysec bounds loss to ~1 s across a power cut, which an offline site cannot re-fetch.
      lines.push("save 3600 1", "appendonly yes", "appendfsync everysec", "aof-use-rdb-preamble yes");
      break;
  }
  // Last, so nothing above can override the password.
  lines.push(`include ${a.authInclude ?? REDIS_AUTH_INCLUDE}`);
  return lines.join("\n") + "\n";
}

/** Contents of the Secret's auth.conf. */
export function renderRedisAuthConf(password: string): string {
  if (!/^[A-Za-z0-9]{16,}$/.test(password)) throw new Error("redis password must be >= 16 alphanumerics");
  return `requirepass ${password}\n`;
}

export interface RedisRenderArgs {
  site: string;
  namespace: string;
  monitoringNamespace: string;
  persistence: RedisPersistence;
  resources: ResourceSpec;
  storageGi: number;
  image?: string;
  exporterImage?: string;
}

export interface RedisManifests {
  configMap: ConfigMapManifest;
  statefulSet: StatefulSetManifest;
  service: ServiceManifest;
  networkPolicy: NetworkPolicyManifest;
}

export function renderRedis(a: RedisRenderArgs): RedisManifests {
  if (a.persistence !== "none" && a.storageGi < 1) throw new Error("redis persistence needs storageGi >= 1");
  const labels = appLabels(REDIS_APP, "cache", a.site);
  const selector = selectorLabels(REDIS_APP);
  const meta = (name: string) => ({ name, namespace: a.namespace, labels });
  // redis-cli reads REDISCLI_AUTH, so probes authenticate without a password in argv.
  const authEnv = {
    name: "REDISCLI_AUTH",
    valueFrom: { secretKeyRef: { name: REDIS_AUTH_SECRET, key: "password" } },
  };
  const probe = (accept: string) => ({
    exec: { command: ["sh", "-c", `redis-cli -h 127.0.0.1 -p ${REDIS_PORT} ping | grep -Eq '${accept}'`] },
    periodSeconds: 10,
    timeoutSeconds: 3,
    failureThreshold: 3,
  });
  const persistent = a.persistence !== "none";
  const out: RedisManifests = {
    configMap: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta("redis-config"),
      data: {
        "redis.conf": renderRedisConf({ memoryLimitMiB: a.resources.limits.memoryMiB, persistence: a.persistence }),
      },
    },
    statefulSet: {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta("redis"),
      spec: {
        serviceName: "redis",
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: { ...labels, ...selector } },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: {
              runAsNonRoot: true,
              fsGroup: REDIS_UID,
              seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [
              {
                name: "redis",
                image: a.image ?? REDIS_IMAGE,
                imagePullPolicy: "IfNotPresent",
                command: ["redis-server", "/etc/redis/redis.conf"],
                ports: [{ name: "redis", containerPort: REDIS_PORT }],
                env: [authEnv],
                resources: k8sResources(a.resources),
                securityContext: hardenedContainerSecurity(REDIS_UID),
                readinessProbe: probe("PONG"),
                // LOADING is alive: a big AOF replay must not become a restart loop.
                livenessProbe: { ...probe("PONG|LOADING"), initialDelaySeconds: 15 },
                volumeMounts: [
                  { name: "config", mountPath: "/etc/redis/redis.conf", subPath: "redis.conf", readOnly: true },
                  { name: "auth", mountPath: "/etc/redis/auth", readOnly: true },
                  { name: "data", mountPath: "/data" },
                ],
              },
              {
                name: "exporter",
                image: a.exporterImage ?? REDIS_EXPORTER_IMAGE,
                imagePullPolicy: "IfNotPresent",
                ports: [{ name: "metrics", containerPort: REDIS_EXPORTER_PORT }],
                env: [
                  { name: "REDIS_ADDR", value: `redis://127.0.0.1:${REDIS_PORT}` },
                  { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: REDIS_AUTH_SECRET, key: "password" } } },
                ],
                resources: k8sResources(EXPORTER_RESOURCES),
                securityContext: hardenedContainerSecurity(EXPORTER_UID),
                readinessProbe: { httpGet: { path: "/health", port: "metrics" }, periodSeconds: 15 },
              },
            ],
            volumes: [
              { name: "config", configMap: { name: "redis-config" } },
              {
                name: "auth",
                secret: { secretName: REDIS_AUTH_SECRET, items: [{ key: "auth.conf", path: "auth.conf" }] },
              },
              ...(persistent ? [] : [{ name: "data", emptyDir: { sizeLimit: "64Mi" } }]),
            ],
          },
        },
        volumeClaimTemplates: persistent ? [dataVolumeClaim(a.storageGi)] : undefined,
      },
    },
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("redis"),
      spec: {
        selector,
        ports: [
          { name: "redis", port: REDIS_PORT, targetPort: "redis" },
          { name: "metrics", port: REDIS_EXPORTER_PORT, targetPort: "metrics" },
        ],
      },
    },
    networkPolicy: {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta("redis"),
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: selectorLabels(TRACKER_APP) } }],
            ports: [{ protocol: "TCP", port: REDIS_PORT }],
          },
          {
            from: [prometheusPeer(a.monitoringNamespace)],
            ports: [{ protocol: "TCP", port: REDIS_EXPORTER_PORT }],
          },
        ],
      },
    },
  };
  withConfigHash(out.statefulSet, out.configMap);
  return out;
}

/** A NetworkPolicy peer for the site's Prometheus (in its own namespace). */
export function prometheusPeer(monitoringNamespace: string) {
  return appPeer(monitoringNamespace, "prometheus");
}
