/**
 * The pack's policies: thin wiring from the CrossGuard API to the pure rules
 * in rules/ (tested directly by test/policy). index.ts hands them to
 * PolicyPack.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { Policies, PolicyResource, ReportViolation } from "@pulumi/policy";
import { GATEKEEPER_POLICIES } from "../gatekeeper/catalog";
import { THRESHOLDS } from "../thresholds";
import {
  EDGE_CAPACITY_SCHEMA,
  EdgeCapacityConfig,
  HA_SERVERS_SCHEMA,
  HaServersConfig,
  SITE_OPTIONS_SCHEMA,
  SiteOptionsConfig,
  siteOptions,
} from "./config";
import { Workload, WORKLOAD_TYPES, workloadOf } from "./lib/workload";
import { runtimeClassOf, type RuntimeClassModel } from "../../config/capacity";
import { edgeCapacityViolations } from "./rules/capacity";
import { haServerViolations, probeViolations, replicatedTrackerViolations } from "./rules/cluster";
import { HOST_LAYER_DEFAULTS, HostLayerConfig, k3sPinViolations } from "./rules/hostLayer";
import { sharedViolations } from "./rules/pod";
import { SECRETS_DEFAULTS, SecretsConfig, plainSecretViolations } from "./rules/secrets";

function report(reportViolation: ReportViolation, messages: string[], urn?: string): void {
  for (const m of messages) reportViolation(m, urn);
}

function workloadName(props: any, name: string): string {
  return props?.metadata?.name ?? name;
}

/** Mandatory at preview, like the Constraint at admission. */
const sharedPolicies: Policies = GATEKEEPER_POLICIES.map((p) => ({
  name: p.dir,
  description: `${p.title} (same rule and parameters as Gatekeeper ${p.kind})`,
  enforcementLevel: "mandatory",
  configSchema: SITE_OPTIONS_SCHEMA,
  validateResource: (args, reportViolation) => {
    if (!WORKLOAD_TYPES.includes(args.type)) return;
    const w = workloadOf(args.type, args.props, args.name);
    if (!w) return;
    const who = `${w.kind} ${workloadName(args.props, args.name)}`;
    const cfg = args.getConfig<SiteOptionsConfig>();
    const site = siteOf(args, Object.keys(cfg?.sites ?? {}));
    report(
      reportViolation,
      sharedViolations(p, w, siteOptions(cfg, site)).map((m) => `${who}: ${m}`),
    );
  },
}));

function workloadsOf(resources: PolicyResource[]): Array<{ w: Workload; r: PolicyResource }> {
  const out: Array<{ w: Workload; r: PolicyResource }> = [];
  for (const r of resources) {
    const w = workloadOf(r.type, r.props, r.name);
    if (w) out.push({ w, r });
  }
  return out;
}

/**
 * Which site a workload belongs to: with one configured site, all of them;
 * with several, the site named like the workload's Kubernetes provider.
 */
export function siteOf(r: { provider?: { name: string } }, sites: string[]): string | undefined {
  if (sites.length === 1) return sites[0];
  const provider = r.provider?.name ?? "";
  // Provider names like "factory-a", "factory-a-k8s" or "k8s-factory-a"; the longest site name wins.
  return sites
    .filter((s) => provider === s || provider.startsWith(`${s}-`) || provider.endsWith(`-${s}`))
    .sort((a, b) => b.length - a.length)[0];
}

export const policies: Policies = [
  ...sharedPolicies,
  {
    name: "edge-capacity",
    description:
      "The site's workloads (requests plus RuntimeClass overhead) can all be placed on its nodes (from policy config), as validate() and the site layer judge it.",
    enforcementLevel: "mandatory",
    configSchema: EDGE_CAPACITY_SCHEMA,
    validateStack: (args, reportViolation) => {
      const cfg = args.getConfig<EdgeCapacityConfig>();
      const sites = Object.keys(cfg.sites ?? {});
      const workloads = workloadsOf(args.resources);
      if (workloads.length === 0) return;
      if (sites.length === 0) {
        reportViolation("no edge capacity configured: set edge-capacity.sites in the stack's policy config");
        return;
      }
      const bySite = new Map<string, Workload[]>(sites.map((s) => [s, []]));
      for (const { w, r } of workloads) {
        const site = siteOf(r, sites);
        if (site === undefined) {
          reportViolation(
            `${w.kind} ${w.name}: provider ${r.provider?.name ?? "(default)"} matches no configured site`,
            r.urn,
          );
        } else bySite.get(site)!.push(w);
      }
      // Each site's cluster has its own RuntimeClasses, whose overhead its pods carry.
      const runtimeClasses = new Map<string, Map<string, RuntimeClassModel>>(sites.map((s) => [s, new Map()]));
      for (const r of args.resources.filter((x) => x.type === "kubernetes:node.k8s.io/v1:RuntimeClass")) {
        const site = siteOf(r, sites);
        if (site !== undefined) runtimeClasses.get(site)!.set(...runtimeClassOf(r.props));
      }
      for (const [site, ws] of bySite)
        report(reportViolation, edgeCapacityViolations(site, ws, cfg.sites![site], runtimeClasses.get(site)!));
    },
  },
  {
    name: "ha-servers-odd",
    description: "An HA K3s control plane has an odd number of servers (from policy config).",
    enforcementLevel: "mandatory",
    configSchema: HA_SERVERS_SCHEMA,
    validateStack: (args, reportViolation) => {
      report(reportViolation, haServerViolations(args.getConfig<HaServersConfig>().servers));
    },
  },
  {
    name: "k3s-pinned",
    description: "The K3s install names an exact release and a sha256 for every artifact.",
    enforcementLevel: "mandatory",
    configSchema: {
      properties: {
        versionProps: { type: "array", items: { type: "object" } },
        artifactLists: { type: "array", items: { type: "object" } },
        versionPattern: { type: "string" },
      },
    },
    validateResource: (args, reportViolation) => {
      const cfg: HostLayerConfig = { ...HOST_LAYER_DEFAULTS, ...args.getConfig<Partial<HostLayerConfig>>() };
      report(
        reportViolation,
        k3sPinViolations(args.type, args.props, cfg).map((m) => `${args.name}: ${m}`),
      );
    },
  },
  {
    name: "no-plain-secrets",
    description: "No secret-looking value in ConfigMaps, plain env values, plain host-command environment or any prop.",
    enforcementLevel: "mandatory",
    configSchema: {
      properties: {
        keyPattern: { type: "string" },
        keyExceptPattern: { type: "string" },
        valuePatterns: { type: "array", items: { type: "string" } },
        ignoreTypes: { type: "array", items: { type: "string" } },
        ignoreProps: { type: "array", items: { type: "string" } },
      },
    },
    validateResource: (args, reportViolation) => {
      const cfg: SecretsConfig = { ...SECRETS_DEFAULTS, ...args.getConfig<Partial<SecretsConfig>>() };
      report(
        reportViolation,
        plainSecretViolations(args.type, args.props, cfg).map((m) => `${args.name}: ${m}`),
      );
    },
  },
  {
    name: "tracker-pdb-hpa",
    description: "A replicated tracker Deployment has a PodDisruptionBudget and a HorizontalPodAutoscaler.",
    enforcementLevel: "advisory",
    validateStack: (args, reportViolation) => {
      const workloads = workloadsOf(args.resources).map(({ w }) => w);
      const others = args.resources.map((r) => ({
        kind: r.type.split(":").pop() ?? "",
        namespace: r.props?.metadata?.namespace,
        props: r.props,
      }));
      report(reportViolation, replicatedTrackerViolations(workloads, others, THRESHOLDS.trackers));
    },
  },
  {
    name: "probes",
    description: "Long-running containers have readiness and liveness probes.",
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
      const w = workloadOf(args.type, args.props, args.name);
      if (!w) return;
      report(
        reportViolation,
        probeViolations(w).map((m) => `${w.kind} ${w.name}: ${m}`),
      );
    },
  },
];
