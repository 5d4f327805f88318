import { siteCapacity, podGroupOf, runtimeClassOf, type CapacityResult, type PodGroup } from "../../config/capacity";
import { uniformEdgeNodes, type SiteNode } from "../../config/edgeNodes";
import type { Profile, RedisPersistence, TrackerSettings } from "../../config/profiles";
import { parseCpuMillis, parseMemoryMiB } from "../../config/quantity";
import { SIZE_CLASSES, type SizeClassName, allocatable, type Resources } from "../../config/sizeClasses";
import { THRESHOLDS } from "../../policies/thresholds";
import { isTracker } from "../../policies/crossguard/rules/cluster";
import { pulumiTypeOf, workloadOf, type Obj } from "../../policies/crossguard/lib/workload";
import { siteTrackerReplicas } from "../profiles";
import { type DaemonSetManifest, type DeploymentManifest, type ResourceSpec, type StatefulSetManifest } from "./common";
import {
  gatekeeperPodGroups,
  gatekeeperWorkloads,
  transformGatekeeper,
  type FailurePolicy,
  type GatekeeperTransformArgs,
} from "./gatekeeper";
import { renderGrafana } from "./grafana";
import { renderLogShipper } from "./logShipper";
import { renderLoki } from "./loki";
import { renderOpa } from "./opa";
import { renderPrometheus, renderRules } from "./prometheus";
import { renderRabbitmq } from "./rabbitmq";
import { renderRedis } from "./redis";
import { renderRuntimeClass } from "./runtimeClass";
import { renderTracker } from "./tracker";

const res = (reqCpu: number, reqMem: number, limCpu: number, limMem: number): ResourceSpec => ({
  requests: { cpuMillis: reqCpu, memoryMiB: reqMem },
  limits: { cpuMillis: limCpu, memoryMiB: limMem },
});

/** Platform sizing per node class: everything must fit one node next to K3s (see FOOTPRINT.md). */
export const PLATFORM_SIZES: Record<
  SizeClassName,
  {
    prometheus: { resources: ResourceSpec; storageGi: number; retentionTime: string };
    grafana: ResourceSpec;
    gatekeeperController: ResourceSpec;
    gatekeeperAudit: ResourceSpec;
    opa: ResourceSpec;
    loki: { resources: ResourceSpec; storageGi: number; retentionHours: number };
    logShipper: { resources: ResourceSpec; memBufLimitMB: number };
  }
> = {
  "2c4g": {
    prometheus: { resources: res(100, 256, 300, 512), storageGi: 2, retentionTime: "7d" },
    grafana: res(50, 96, 200, 192),
    gatekeeperController: res(100, 256, 300, 384),
    gatekeeperAudit: res(50, 192, 200, 384),
    opa: res(25, 48, 100, 128),
    loki: { resources: res(100, 128, 300, 384), storageGi: 4, retentionHours: 168 },
    // Once per node: Fluent Bit idles at ~12 MiB (5.1.1, this config); the limit covers the tail's
    // 16 MB buffer plus the chunk the Loki output is sending.
    logShipper: { resources: res(20, 32, 100, 96), memBufLimitMB: 16 },
  },
  "4c8g": {
    prometheus: { resources: res(200, 512, 500, 1024), storageGi: 8, retentionTime: "15d" },
    grafana: res(50, 96, 200, 192),
    gatekeeperController: res(100, 256, 500, 512),
    gatekeeperAudit: res(100, 256, 300, 512),
    opa: res(50, 64, 200, 256),
    loki: { resources: res(100, 192, 500, 512), storageGi: 8, retentionHours: 168 },
    logShipper: { resources: res(25, 48, 125, 128), memBufLimitMB: 32 },
  },
};

/**
 * What a site can be told to change over its profile's preset: the one
 * overrides type. A stack file's `overrides:` block (config/schema.ts
 * OverridesSchema) reaches it through config/siteLayer.ts.
 */
export interface SiteOverrides {
  /** @default siteTrackerReplicas(profile, edgeNodes): the case's replicas per edge node, at least 1 */
  trackerReplicas?: number;
  /** @default max(trackerReplicas, min(edgeNodes x profile.tracker.hpa.maxReplicasPerEdgeNode, the trackers that fit)) */
  hpaMaxReplicas?: number;
  /** @default profile.tracker.resources */
  trackerResources?: ResourceSpec;
  /** Merged key by key over the profile's. @default profile.tracker.settings */
  trackerSettings?: Partial<TrackerSettings>;
  /**
   * false removes Redis from a profile that has it; an object adds or changes it.
   * Its fields default to the profile's Redis, else persistence "none", 100m/256Mi -> 500m/512Mi, 2 GiB.
   * @default profile.extras.redis (none where the profile has none)
   */
  redis?: false | { persistence?: RedisPersistence; resources?: ResourceSpec; storageGi?: number };
  /**
   * As `redis`. Its fields default to the profile's RabbitMQ, else no MQTT, 150m/384Mi -> 500m/640Mi, 2 GiB.
   * @default profile.extras.rabbitmq (none where the profile has none)
   */
  rabbitmq?: false | { mqtt?: boolean; resources?: ResourceSpec; storageGi?: number };
  /** @default profile.extras.loki */
  loki?: boolean;
  /** Fluent Bit into the site's Loki; true on a site without Loki is an error. @default profile.extras.logShipper */
  logShipper?: boolean;
  /** @default PLATFORM_SIZES[profile.sizeClass].logShipper.resources */
  logShipperResources?: ResourceSpec;
  /** An OPA server with the application authorization policy. @default profile.extras.authz */
  authz?: boolean;
  monitoring?: {
    /** Prometheus agent mode: scrape and remote-write only, no local TSDB, rules or Grafana. @default false */
    agentMode?: boolean;
    /** The central store Prometheus remote-writes to (an agent keeps no data without it). @default none (no remote write) */
    remoteWriteUrl?: string;
    /** @default "48h" in agent mode (the factory case's > 24 h offline window), else PLATFORM_SIZES[profile.sizeClass].prometheus.retentionTime */
    retentionTime?: string;
    /** @default PLATFORM_SIZES[profile.sizeClass].prometheus.storageGi */
    storageGi?: number;
    /** @default PLATFORM_SIZES[profile.sizeClass].prometheus.resources */
    prometheusResources?: ResourceSpec;
    /** An agent has nothing Grafana could query. @default !agentMode */
    grafana?: boolean;
    /** @default PLATFORM_SIZES[profile.sizeClass].grafana */
    grafanaResources?: ResourceSpec;
  };
  gatekeeper?: {
    /** @default 1 */
    controllerReplicas?: number;
    /** @default 1 */
    auditReplicas?: number;
    /** @default PLATFORM_SIZES[profile.sizeClass].gatekeeperController */
    controllerResources?: ResourceSpec;
    /** @default PLATFORM_SIZES[profile.sizeClass].gatekeeperAudit */
    auditResources?: ResourceSpec;
    /** Fail-open: with one webhook replica, Fail blocks every admission while that pod restarts. @default "Ignore" */
    validatingFailurePolicy?: FailurePolicy;
    /** @default "Ignore" */
    mutatingFailurePolicy?: FailurePolicy;
    /** @default 300 on 2c4g nodes, 120 on 4c8g */
    auditIntervalSeconds?: number;
    /** Registry mirror for offline sites. @default none (upstream's docker.io images) */
    imageRegistry?: string;
  };
  /** @default PLATFORM_SIZES[profile.sizeClass].opa */
  opaResources?: ResourceSpec;
}

/** Everything a Site renders, with every default filled in. Plain data. */
export interface ResolvedSite {
  site: string;
  profile: Profile;
  /** The site's nodes (config/edgeNodes.ts), whatever runs where. */
  nodes: SiteNode[];
  /** How many of them run trackers. */
  edgeNodes: number;
  appNamespace: string;
  monitoringNamespace: string;
  tracker: {
    replicas: number;
    hpaMaxReplicas: number;
    resources: ResourceSpec;
    settings: TrackerSettings;
    targetCpuUtilizationPercent: number;
    sqliteHostPath?: string;
  };
  redis?: { persistence: RedisPersistence; resources: ResourceSpec; storageGi: number };
  rabbitmq?: { mqtt: boolean; resources: ResourceSpec; storageGi: number };
  prometheus: {
    agentMode: boolean;
    remoteWriteUrl?: string;
    resources: ResourceSpec;
    storageGi: number;
    retentionTime: string;
  };
  grafana?: { resources: ResourceSpec };
  gatekeeper: GatekeeperTransformArgs;
  opa?: { resources: ResourceSpec };
  loki?: { resources: ResourceSpec; storageGi: number; retentionHours: number };
  logShipper?: { resources: ResourceSpec; memBufLimitMB: number };
  capacity: CapacityResult;
}

export interface ResolveArgs {
  site: string;
  profile: Profile;
  /** The site's nodes as the host layer makes them (config/edgeNodes.ts siteNodes). */
  nodes?: SiteNode[];
  /**
   * Without `nodes`: this many edge nodes of the profile's size class, which
   * hold the platform too (the reference site of FOOTPRINT.md).
   */
  edgeNodes?: number;
  overrides?: SiteOverrides;
  appNamespace?: string;
  monitoringNamespace?: string;
}

/** The tracker image where a rendering for capacity or policy checks is given none. */
const PLACEHOLDER_IMAGE = "registry.invalid/edgefleet/tracker:0.0.0";

/**
 * Profile preset + stack overrides -> the site's settings and its capacity
 * verdict (config/capacity.ts on the site's own nodes). Never refuses for
 * capacity: validate() reads `capacity.problems`, resolveSite() throws them.
 */
export function planSite(a: ResolveArgs): ResolvedSite {
  const o = a.overrides ?? {};
  const p = a.profile;
  const nodes = a.nodes ?? uniformEdgeNodes(a.edgeNodes ?? 1, p.sizeClass, a.site, p.name);
  const edgeNodes = nodes.filter((n) => n.runsTrackers).length;
  const resolved = resolvePlatform(a, nodes, edgeNodes);
  const trackerResources = o.trackerResources ?? p.tracker.resources;
  const replicas = o.trackerReplicas ?? siteTrackerReplicas(p, Math.max(1, edgeNodes));
  const tracker: ResolvedSite["tracker"] = {
    replicas,
    hpaMaxReplicas: replicas,
    resources: trackerResources,
    settings: { ...p.tracker.settings, ...(o.trackerSettings ?? {}) },
    targetCpuUtilizationPercent: p.tracker.hpa.targetCpuUtilizationPercent,
    sqliteHostPath: p.extras.sqliteHostPath,
  };
  const groups = sitePodGroups({ ...resolved, tracker }, PLACEHOLDER_IMAGE);
  let capacity = siteCapacity(nodes, groups, replicas);
  const hpaMax =
    o.hpaMaxReplicas ??
    Math.max(replicas, Math.min(edgeNodes * p.tracker.hpa.maxReplicasPerEdgeNode, capacity.maxTrackerReplicas));
  if (hpaMax > capacity.maxTrackerReplicas && hpaMax > replicas) {
    const group = groups.find((g) => g.tracker)!;
    const problems = [
      ...capacity.problems,
      { kind: "replicas" as const, group, replicas: hpaMax, max: capacity.maxTrackerReplicas },
    ];
    capacity = {
      ...capacity,
      ok: false,
      problems,
      error: `${capacity.error ?? ""}; HPA maxReplicas ${hpaMax} exceeds them`,
    };
  }
  return { ...resolved, tracker: { ...tracker, hpaMaxReplicas: hpaMax }, capacity };
}

/** planSite, refusing a site whose pods cannot all be placed (validate() refuses such a stack first). */
export function resolveSite(a: ResolveArgs): ResolvedSite {
  const s = planSite(a);
  if (!s.capacity.ok) throw new Error(`site ${a.site}: site capacity (${a.profile.name}): ${s.capacity.error}`);
  return s;
}

/** Everything but the trackers and the capacity verdict. */
function resolvePlatform(a: ResolveArgs, nodes: SiteNode[], edgeNodes: number): PlatformSpec {
  const o = a.overrides ?? {};
  const p = a.profile;
  const sizes = PLATFORM_SIZES[p.sizeClass];
  const ex = p.extras;
  const redis =
    o.redis === false || (!ex.redis && !o.redis)
      ? undefined
      : {
          persistence: o.redis?.persistence ?? ex.redis?.persistence ?? "none",
          resources: o.redis?.resources ?? ex.redis?.resources ?? res(100, 256, 500, 512),
          storageGi: o.redis?.storageGi ?? ex.redis?.storageGi ?? 2,
        };
  const rabbitmq =
    o.rabbitmq === false || (!ex.rabbitmq && !o.rabbitmq)
      ? undefined
      : {
          mqtt: o.rabbitmq?.mqtt ?? ex.rabbitmq?.mqtt ?? false,
          resources: o.rabbitmq?.resources ?? ex.rabbitmq?.resources ?? res(150, 384, 500, 640),
          storageGi: o.rabbitmq?.storageGi ?? ex.rabbitmq?.storageGi ?? 2,
        };
  const m = o.monitoring ?? {};
  const agentMode = m.agentMode ?? false;
  const g = o.gatekeeper ?? {};
  const loki = (o.loki ?? ex.loki) ? sizes.loki : undefined;
  if (o.logShipper && !loki) {
    throw new Error(`site ${a.site} (${p.name}): overrides.logShipper needs Loki, which this site does not run`);
  }
  const logShipper =
    loki && (o.logShipper ?? ex.logShipper)
      ? { ...sizes.logShipper, resources: o.logShipperResources ?? sizes.logShipper.resources }
      : undefined;
  return {
    site: a.site,
    profile: p,
    nodes,
    edgeNodes,
    appNamespace: a.appNamespace ?? "edgefleet",
    monitoringNamespace: a.monitoringNamespace ?? "edgefleet-monitoring",
    redis,
    rabbitmq,
    prometheus: {
      agentMode,
      remoteWriteUrl: m.remoteWriteUrl,
      resources: m.prometheusResources ?? sizes.prometheus.resources,
      storageGi: m.storageGi ?? sizes.prometheus.storageGi,
      // An agent holds its WAL for the factory case's > 24 h offline window.
      retentionTime: m.retentionTime ?? (agentMode ? "48h" : sizes.prometheus.retentionTime),
    },
    grafana: (m.grafana ?? !agentMode) ? { resources: m.grafanaResources ?? sizes.grafana } : undefined,
    gatekeeper: {
      controllerReplicas: g.controllerReplicas ?? 1,
      auditReplicas: g.auditReplicas ?? 1,
      controllerResources: g.controllerResources ?? sizes.gatekeeperController,
      auditResources: g.auditResources ?? sizes.gatekeeperAudit,
      // Fail-open by default: with one webhook replica, Fail would block every
      // admission (our own rollouts included) whenever that pod restarts; audit
      // still reports what slipped through.
      validatingFailurePolicy: g.validatingFailurePolicy ?? "Ignore",
      mutatingFailurePolicy: g.mutatingFailurePolicy ?? "Ignore",
      auditIntervalSeconds: g.auditIntervalSeconds ?? (p.sizeClass === "2c4g" ? 300 : 120),
      imageRegistry: g.imageRegistry,
    },
    opa: (o.authz ?? ex.authz) ? { resources: o.opaResources ?? sizes.opa } : undefined,
    loki,
    logShipper,
  };
}

/**
 * The site layer's pod-creating objects (and the RuntimeClass they run
 * under), rendered by the same functions the components use: what validate()
 * judges with the policies' own rules and what the capacity model places.
 * Gatekeeper's Deployments come from the upstream manifest at `up`; their
 * pods are modelled from the same arguments (gatekeeperPodGroups).
 */
export function siteManifests(s: Omit<ResolvedSite, "capacity">, trackerImage: string): Obj[] {
  const base = { site: s.site, namespace: s.appNamespace, monitoringNamespace: s.monitoringNamespace };
  const out: Obj[] = [renderRuntimeClass()];
  out.push(
    renderTracker({
      site: s.site,
      namespace: s.appNamespace,
      image: trackerImage,
      replicas: Math.max(1, s.tracker.replicas),
      hpaMaxReplicas: Math.max(1, s.tracker.replicas, s.tracker.hpaMaxReplicas),
      targetCpuUtilizationPercent: s.tracker.targetCpuUtilizationPercent,
      resources: s.tracker.resources,
      settings: s.tracker.settings,
      runtimeClassName: "wasmedge",
      sqliteHostPath: s.tracker.sqliteHostPath,
      endpoints: {},
    }).deployment,
  );
  out.push(...platformManifests(s, base));
  return out;
}

function platformManifests(
  s: PlatformSpec,
  base: { site: string; namespace: string; monitoringNamespace: string },
): Array<DeploymentManifest | StatefulSetManifest | DaemonSetManifest> {
  const out: Array<DeploymentManifest | StatefulSetManifest | DaemonSetManifest> = [];
  if (s.redis) out.push(renderRedis({ ...base, ...s.redis }).statefulSet);
  if (s.rabbitmq) out.push(renderRabbitmq({ ...base, ...s.rabbitmq }).statefulSet);
  out.push(
    renderPrometheus(
      {
        site: s.site,
        profile: s.profile.name,
        namespace: s.monitoringNamespace,
        targets: prometheusTargets(s),
        ...s.prometheus,
      },
      renderRules(prometheusRules(s)),
    ).statefulSet,
  );
  if (s.grafana) {
    out.push(
      renderGrafana({
        site: s.site,
        namespace: s.monitoringNamespace,
        prometheusUrl: "http://prometheus:9090",
        p99SloMs: s.profile.slo.p99LatencyMs,
        resources: s.grafana.resources,
      }).deployment,
    );
  }
  if (s.opa) out.push(renderOpa({ ...base, policyRego: "package footprint\n", resources: s.opa.resources }).deployment);
  if (s.loki) out.push(renderLoki({ site: s.site, namespace: s.monitoringNamespace, ...s.loki }).statefulSet);
  if (s.logShipper)
    out.push(
      renderLogShipper({
        site: s.site,
        namespace: s.monitoringNamespace,
        monitoringNamespace: s.monitoringNamespace,
        lokiNamespace: s.monitoringNamespace,
        ...s.logShipper,
      }).daemonSet,
    );
  return out;
}

/** The site's pods as config/capacity.ts places them: its manifests, and Gatekeeper from its arguments. */
export function sitePodGroups(s: Omit<ResolvedSite, "capacity">, trackerImage: string): PodGroup[] {
  const manifests = siteManifests(s, trackerImage);
  const runtimeClasses = new Map(manifests.filter((m) => m.kind === "RuntimeClass").map(runtimeClassOf));
  const groups: PodGroup[] = [];
  for (const m of manifests) {
    const w = workloadOf(pulumiTypeOf(m), m);
    if (!w) continue;
    const g = podGroupOf(w, runtimeClasses, isTracker(w, THRESHOLDS.trackers));
    if (!g) continue;
    // The Deployment's replicas are its HPA's floor; capacity is judged at the site's count.
    groups.push(g.tracker ? { ...g, replicas: s.tracker.replicas } : g);
  }
  return [...groups, ...gatekeeperPodGroups(s.gatekeeper)];
}

export interface WorkloadRow {
  name: string;
  /** Pods of this workload the platform's node runs (1 for a DaemonSet, which every node runs). */
  replicas: number;
  /** A DaemonSet's pod: on every node, so it is counted again per further edge node. */
  perNode: boolean;
  requests: Resources;
  limits: Resources;
}

export interface Footprint {
  rows: WorkloadRow[];
  /** What one node must hold: every workload's replicas and one pod of each DaemonSet. */
  total: { requests: Resources; limits: Resources };
  /** The DaemonSet pods alone, which each further edge node holds as well. */
  perNode: { requests: Resources; limits: Resources };
}

/** A quantity of a manifest rendered here or shipped upstream: absent counts 0, malformed is a bug. */
function counted(q: unknown, parse: (q: unknown) => number | undefined, what: string): number {
  if (q === undefined) return 0;
  const v = parse(q);
  if (v === undefined) throw new Error(`unparseable ${what} quantity ${JSON.stringify(q)}`);
  return v;
}

/** A container's (or Deployment's) requests or limits, in millicores and MiB. */
function resourcesOf(r: { cpu?: unknown; memory?: unknown } | undefined): Resources {
  return {
    cpuMillis: counted(r?.cpu, parseCpuMillis, "CPU"),
    memoryMiB: counted(r?.memory, parseMemoryMiB, "memory"),
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function rowsOf(w: DeploymentManifest | StatefulSetManifest | DaemonSetManifest): WorkloadRow[] {
  const perNode = w.kind === "DaemonSet";
  const replicas = perNode ? 1 : ((w.spec as { replicas?: number } | undefined)?.replicas ?? 1);
  return (w.spec?.template.spec?.containers ?? []).map((c) => {
    const r: any = c.resources ?? {};
    return {
      name: `${w.kind}/${w.metadata?.name}/${c.name}`,
      replicas,
      perNode,
      requests: resourcesOf(r.requests),
      limits: resourcesOf(r.limits),
    };
  });
}

/**
 * The platform's own requests and limits (everything but trackers), summed
 * from the manifests the Site renders, not from a separate table.
 */
export function platformWorkloads(s: PlatformSpec, gatekeeperYaml: string): WorkloadRow[] {
  const base = { site: s.site, namespace: s.appNamespace, monitoringNamespace: s.monitoringNamespace };
  const rows: WorkloadRow[] = platformManifests(s, base).flatMap(rowsOf);
  for (const w of gatekeeperWorkloads(transformGatekeeper(gatekeeperYaml, s.gatekeeper))) {
    rows.push({
      name: `Deployment/${w.name}`,
      replicas: w.replicas,
      perNode: false,
      requests: resourcesOf(w.resources.requests),
      limits: resourcesOf(w.resources.limits),
    });
  }
  return rows;
}

export function platformFootprint(s: PlatformSpec, gatekeeperYaml: string): Footprint {
  const rows = platformWorkloads(s, gatekeeperYaml);
  const sums = (of: WorkloadRow[]) => {
    const sum = (f: (r: WorkloadRow) => number) => of.reduce((a, r) => a + f(r) * r.replicas, 0);
    return {
      requests: { cpuMillis: sum((r) => r.requests.cpuMillis), memoryMiB: sum((r) => r.requests.memoryMiB) },
      limits: { cpuMillis: sum((r) => r.limits.cpuMillis), memoryMiB: sum((r) => r.limits.memoryMiB) },
    };
  };
  return { rows, total: sums(rows), perNode: sums(rows.filter((r) => r.perNode)) };
}

export function nodeAllocatable(p: Profile): Resources {
  return allocatable(SIZE_CLASSES[p.sizeClass]);
}

/** What the platform footprint depends on: a resolved site minus its trackers. */
export type PlatformSpec = Omit<ResolvedSite, "tracker" | "capacity">;

/** What the site's Prometheus scrapes: the same for the rendered check and the declared site. */
export function prometheusTargets(s: PlatformSpec) {
  return {
    appNamespace: s.appNamespace,
    redis: !!s.redis,
    rabbitmq: !!s.rabbitmq,
    logShipperNamespace: s.logShipper ? s.monitoringNamespace : undefined,
  };
}

/** Which alert rules the site's Prometheus gets. */
export function prometheusRules(s: PlatformSpec) {
  return { profile: s.profile, redis: !!s.redis, rabbitmq: !!s.rabbitmq, logShipper: !!s.logShipper };
}
