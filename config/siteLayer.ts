/**
 * From a validated site of the stack config to the site layer's arguments:
 * profile, edge node count, tracker image, the operator's overrides in the
 * components' terms, and the site's Gatekeeper policies and authz Rego from
 * policies/. Pure apart from reading policy files and the Gatekeeper manifest
 * path from the environment.
 */
import * as fs from "fs";
import * as path from "path";
import type * as k8s from "@pulumi/kubernetes";
import type { SiteArgs } from "../components/site";
import type { ResourceSpec } from "../components/render/common";
import { parseImageRef, type ImageRef } from "./image";
import { getProfile, type ProfileName } from "./profiles";
import { parseCpuMillis, parseMemoryMiB } from "./quantity";
import {
  GATEKEEPER_POLICIES,
  renderConstraints,
  renderTemplate,
  type SiteConstraintOptions,
} from "../policies/gatekeeper/catalog";
import { GATEKEEPER_DIR, readRego } from "../policies/gatekeeper/files";
import { siteHostPaths } from "../policies/siteHostPaths";
import { parseAllDocuments } from "yaml";
import type { SiteSpec, StackSpec } from "./schema";

/** The tracker image when a site names none: pinned, never `latest`. */
export const DEFAULT_TRACKER_IMAGE: ImageRef = { registry: "ghcr.io", repository: "edgefleet/tracker", tag: "0.4.2" };

/** Nodes that run trackers: agents and simulated nodes, or servers when a site has neither and servers run a kubelet. */
export function edgeNodeCount(site: SiteSpec): number {
  const agents = site.hosts.filter((h) => h.role === "agent").length + (site.kwok?.nodes ?? 0);
  if (agents > 0) return agents;
  return site.disableAgentOnServers ? 0 : site.hosts.length;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export function gatekeeperPolicies(
  site: SiteSpec,
  stack: StackSpec,
): {
  templates: Record<string, any>[];
  constraints: Record<string, any>[];
  expansions: Record<string, any>[];
  awaitTemplates: boolean;
} {
  const sizeClass =
    site.kwok?.size.name === "2c4g" || site.hosts.find((h) => h.role === "agent")?.size.name === "2c4g"
      ? "2c4g"
      : "4c8g";
  const tracker = site.overrides.tracker?.image ? parseImageRef(site.overrides.tracker.image) : DEFAULT_TRACKER_IMAGE;
  const extraRegistries = [tracker.registry, ...Object.keys(stack.registry?.mirrors ?? {})].filter((r) => r !== "*");
  const options: SiteConstraintOptions = { sizeClass, extraRegistries, extraHostPaths: siteHostPaths(site) };
  const enforce = site.overrides.gatekeeper?.constraints !== false;
  const expansions = parseAllDocuments(
    fs.readFileSync(path.join(GATEKEEPER_DIR, "expansion", "expansion.yaml"), "utf8"),
  )
    .map((d) => d.toJS() as Record<string, any>)
    .filter((d) => d && d.kind);
  return {
    templates: GATEKEEPER_POLICIES.map((p) => renderTemplate(p, readRego(p.dir)) as Record<string, any>),
    constraints: enforce ? (renderConstraints(options) as Record<string, any>[]) : [],
    expansions,
    awaitTemplates: enforce,
  };
}

type Quantities = { cpu?: string | number; memory?: string };

/** The operator's tracker requests/limits over the profile's, as numbers. */
export function trackerResources(
  profile: ProfileName,
  o: { requests?: Quantities; limits?: Quantities },
): ResourceSpec {
  const base = getProfile(profile).tracker.resources;
  const pick = (q: Quantities | undefined, b: ResourceSpec["requests"]) => ({
    cpuMillis: q?.cpu !== undefined ? parseCpuMillis(q.cpu)! : b.cpuMillis,
    memoryMiB: q?.memory !== undefined ? parseMemoryMiB(q.memory)! : b.memoryMiB,
  });
  return { requests: pick(o.requests, base.requests), limits: pick(o.limits, base.limits) };
}

/**
 * The site layer's arguments for one site of a validated stack.
 * `gatekeeperManifest` is the local path of the stack's Gatekeeper release
 * manifest, already checked against its pin (ensurePinnedArtifact).
 */
export function siteLayerArgs(
  stack: StackSpec,
  site: SiteSpec,
  provider: k8s.Provider,
  gatekeeperManifest: string,
): SiteArgs {
  const o = site.overrides;
  const profile = site.profile;
  const authzPath = path.join(__dirname, "..", "policies", "authz", "src.rego");
  return {
    provider,
    site: site.name,
    profile,
    edgeNodes: edgeNodeCount(site),
    trackerImage: o.tracker?.image ? parseImageRef(o.tracker.image) : DEFAULT_TRACKER_IMAGE,
    overrides: {
      trackerReplicas: o.tracker?.replicas,
      trackerResources: o.tracker?.resources ? trackerResources(profile, o.tracker.resources) : undefined,
      monitoring: o.monitoring
        ? { agentMode: o.monitoring.agentMode, remoteWriteUrl: o.monitoring.remoteWriteUrl }
        : undefined,
      gatekeeper: o.gatekeeper
        ? { controllerReplicas: o.gatekeeper.replicas, validatingFailurePolicy: o.gatekeeper.failurePolicy }
        : undefined,
    },
    gatekeeper: {
      manifestPath: gatekeeperManifest,
      version: `v${stack.gatekeeper.version}`,
      ...gatekeeperPolicies(site, stack),
    },
    authzPolicyRego: fs.readFileSync(authzPath, "utf8"),
    ephemeralStorage: site.overrides.storage?.ephemeral,
    secrets: stack.hostTransport,
  };
}
