/**
 * The five site profiles: the one table, one entry per reference case in the
 * seed documents (components/README.md maps each number to its source line).
 * Values the cases state are marked "case"; values they leave open are ours
 * and say why. Everything that depends on a site's profile reads it here:
 * validation (config/validate.ts), the site layer (components/), the host
 * layer (infra/: packaged components to disable, host directories) and
 * policies/ (host paths).
 *
 * A profile is named as the stack config names it (`profile: factoryIiot`),
 * and that name is what the nodes' `edgefleet.dev/profile` label and the
 * site's Prometheus `profile` label carry.
 *
 * Kept loadable by Node's type stripping (imports of types say `type`):
 * scripts/inventory/policy-config.ts reaches it through policies/siteHostPaths.ts.
 */
import type { ResourceSpec, SizeClassName } from "./sizeClasses";

export const PROFILE_NAMES = ["logisticsHub", "retailCity", "supplyChain", "edgeGeneral", "factoryIiot"] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** The tracker ConfigMap keys, named as the cases name them. */
export interface TrackerSettings {
  cacheEnabled: boolean;
  /** Go-style duration ("10s"). */
  cacheTtl: string;
  maxConnections: number;
  queryTimeout: string;
  syncEnabled: boolean;
  syncInterval: string;
  offlineMode: boolean;
  localStorage: boolean;
  /** SQLite file inside the tracker's /data mount. */
  databasePath: string;
}

export type RedisPersistence = "none" | "rdb" | "aof";

export interface ProfileExtras {
  /** Redis cache; absent = no Redis at the site. */
  redis?: { persistence: RedisPersistence; resources: ResourceSpec; storageGi: number };
  /** RabbitMQ; `mqtt` turns on the MQTT plugin for IoT devices (TLS on 8883; README "MQTT devices"). */
  rabbitmq?: { mqtt: boolean; resources: ResourceSpec; storageGi: number };
  /** SQLite on the node (hostPath); absent = the tracker's /data is an emptyDir. */
  sqliteHostPath?: string;
  /** An OPA server with the application authorization policy. */
  authz: boolean;
  /** Single-binary Loki for logs. */
  loki: boolean;
  /** Fluent Bit on every node shipping container logs into that Loki (needs `loki`). */
  logShipper: boolean;
}

export interface Profile {
  /** As the stack config names it (`profile: factoryIiot`); also the nodes' edgefleet.dev/profile label. */
  name: ProfileName;
  title: string;
  /** Seed file the numbers come from (shared/seeds/README.md). */
  caseFile: string;
  /** The case's whole fleet: edge nodes and tracker replicas counted in one cluster. */
  fleet: { edgeNodes: number; trackerReplicas: number };
  /** The case's node size, which the site layer sizes its platform for (components/render/site.ts). */
  sizeClass: SizeClassName;
  /** K3s packaged components the profile's servers turn off (config.yaml `disable`). */
  k3sDisable: readonly string[];
  tracker: {
    resources: ResourceSpec;
    settings: TrackerSettings;
    hpa: {
      /** Upper bound per edge node before the capacity bound applies. */
      maxReplicasPerEdgeNode: number;
      targetCpuUtilizationPercent: number;
    };
  };
  slo: { p50LatencyMs: number; p99LatencyMs: number; availability: number };
  extras: ProfileExtras;
}

const res = (reqCpu: number, reqMem: number, limCpu: number, limMem: number): ResourceSpec => ({
  requests: { cpuMillis: reqCpu, memoryMiB: reqMem },
  limits: { cpuMillis: limCpu, memoryMiB: limMem },
});

export const PROFILES: Record<ProfileName, Profile> = {
  logisticsHub: {
    name: "logisticsHub",
    title: "Logistics hub (2000+ centres, 2M QPS)",
    caseFile: "000_1f805247860e9912.txt",
    fleet: { edgeNodes: 2000, trackerReplicas: 400 }, // case
    sizeClass: "4c8g", // case: 4C8G
    k3sDisable: [],
    tracker: {
      resources: res(200, 256, 1000, 1024), // case
      settings: {
        cacheEnabled: true, // case
        cacheTtl: "10s", // case
        maxConnections: 20000, // case
        queryTimeout: "20ms", // case
        syncEnabled: false, // ours: the case syncs nothing; Redis is its shared state
        syncInterval: "60s",
        offlineMode: false,
        localStorage: true, // case: SQLite 3.45+ edge storage
        databasePath: "/data/tracker.db",
      },
      // ours: the case runs at 60% CPU on average; 70% leaves a step before limits.
      hpa: { maxReplicasPerEdgeNode: 4, targetCpuUtilizationPercent: 70 },
    },
    slo: { p50LatencyMs: 10, p99LatencyMs: 20, availability: 0.999 }, // case
    extras: {
      // ours: a 10 s TTL cache is rebuildable, so no persistence (no fork, no disk).
      redis: { persistence: "none", resources: res(100, 256, 500, 512), storageGi: 0 },
      rabbitmq: { mqtt: false, resources: res(200, 512, 1000, 1024), storageGi: 4 },
      authz: false,
      loki: false,
      logShipper: false,
    },
  },
  retailCity: {
    name: "retailCity",
    title: "Retail city (500+ cities, 100k IoT devices, MQTT)",
    caseFile: "001_9f1a6a03d628c3e7.txt",
    fleet: { edgeNodes: 500, trackerReplicas: 100 }, // case
    sizeClass: "2c4g", // case
    // the retail case runs its own ingress and load balancing: K3s's Traefik and ServiceLB go.
    k3sDisable: ["traefik", "servicelb"],
    tracker: {
      resources: res(50, 128, 200, 256), // case
      settings: {
        cacheEnabled: true, // ours (no Redis in this case: in-process cache)
        cacheTtl: "30s",
        maxConnections: 5000,
        queryTimeout: "30ms", // ours = the case's P99 target
        syncEnabled: true,
        syncInterval: "30s",
        offlineMode: false,
        localStorage: true, // case: SQLite local storage
        databasePath: "/data/tracker.db",
      },
      hpa: { maxReplicasPerEdgeNode: 4, targetCpuUtilizationPercent: 70 },
    },
    slo: { p50LatencyMs: 15, p99LatencyMs: 30, availability: 0.999 }, // case
    extras: {
      // The case's "local message queue" for MQTT devices: RabbitMQ with its MQTT plugin.
      rabbitmq: { mqtt: true, resources: res(150, 384, 500, 640), storageGi: 2 },
      authz: false,
      loki: false,
      logShipper: false,
    },
  },
  supplyChain: {
    name: "supplyChain",
    title: "Supply chain (200+ cities, 10 s sync)",
    caseFile: "002_bfc1cb90c5edd110.txt",
    fleet: { edgeNodes: 200, trackerReplicas: 40 }, // case
    sizeClass: "4c8g", // ours: the case names no node size; its requests match edge-general's 4C8G
    k3sDisable: [],
    tracker: {
      resources: res(100, 128, 500, 512), // case
      settings: {
        cacheEnabled: true, // case
        cacheTtl: "300s", // case
        maxConnections: 10000,
        queryTimeout: "30ms",
        syncEnabled: true, // case
        syncInterval: "10s", // case
        offlineMode: true, // case: unstable network, offline autonomy
        localStorage: true,
        databasePath: "/data/tracker.db",
      },
      hpa: { maxReplicasPerEdgeNode: 4, targetCpuUtilizationPercent: 70 },
    },
    slo: { p50LatencyMs: 20, p99LatencyMs: 30, availability: 0.999 }, // case
    extras: {
      rabbitmq: { mqtt: false, resources: res(200, 512, 1000, 1024), storageGi: 4 },
      authz: false,
      loki: false,
      logShipper: false,
    },
  },
  edgeGeneral: {
    name: "edgeGeneral",
    title: "Edge general (5000+ nodes, offline autonomy)",
    caseFile: "003_59a526f9ffb833f0.txt",
    fleet: { edgeNodes: 5000, trackerReplicas: 100 }, // case
    sizeClass: "4c8g", // case
    k3sDisable: [],
    tracker: {
      resources: res(100, 128, 500, 512), // case
      settings: {
        cacheEnabled: true,
        cacheTtl: "60s",
        maxConnections: 10000,
        queryTimeout: "50ms", // ours = the case's P99 target
        syncEnabled: true,
        syncInterval: "60s", // case
        offlineMode: true, // case
        localStorage: true, // case
        databasePath: "/data/tracker.db",
      },
      hpa: { maxReplicasPerEdgeNode: 4, targetCpuUtilizationPercent: 70 },
    },
    slo: { p50LatencyMs: 30, p99LatencyMs: 50, availability: 0.999 }, // case
    extras: {
      // ours: offline autonomy means the cache must survive a restart while the uplink is down.
      redis: { persistence: "aof", resources: res(100, 256, 500, 512), storageGi: 2 },
      rabbitmq: { mqtt: false, resources: res(200, 512, 1000, 1024), storageGi: 4 },
      authz: false,
      loki: false,
      logShipper: false,
    },
  },
  factoryIiot: {
    name: "factoryIiot",
    title: "Factory IIoT (100+ factories, > 24 h offline)",
    caseFile: "004_d6e61678b6827028.txt",
    fleet: { edgeNodes: 100, trackerReplicas: 10 }, // case
    sizeClass: "2c4g", // case
    k3sDisable: [],
    tracker: {
      resources: res(50, 64, 200, 128), // case
      settings: {
        cacheEnabled: false, // ours: no cache tier in this case
        cacheTtl: "0s",
        maxConnections: 1000,
        queryTimeout: "50ms", // ours = the case's P99 target
        syncEnabled: true, // case: offline.sync_interval 300
        syncInterval: "300s", // case
        offlineMode: true, // case
        localStorage: true, // case
        databasePath: "/data/industrial-iot.db", // case
      },
      hpa: { maxReplicasPerEdgeNode: 4, targetCpuUtilizationPercent: 70 },
    },
    slo: { p50LatencyMs: 20, p99LatencyMs: 50, availability: 0.999 }, // case
    extras: {
      sqliteHostPath: "/var/lib/industrial-iot", // case
      authz: true, // case: the `collect` Rego rule
      loki: true, // case
      logShipper: true, // ours: the case names Loki, which holds nothing without a shipper
    },
  },
};

export function isProfileName(name: unknown): name is ProfileName {
  return typeof name === "string" && (PROFILE_NAMES as readonly string[]).includes(name);
}

export function getProfile(name: string): Profile {
  if (!isProfileName(name)) {
    throw new Error(`unknown site profile "${name}"; expected one of ${PROFILE_NAMES.join(", ")}`);
  }
  return PROFILES[name];
}
