/**
 * A validated site in the site layer's terms: its overrides, its nodes and
 * what planSite/resolveSite take. Pure and loadable by Node's type stripping
 * (no file reads, imports of types say `type`), so validate() judges a site
 * with exactly the arguments the site layer will build it from.
 */
import type { ResolveArgs, SiteOverrides } from "../components/render/site";
import { limitsSizeClass, siteNodes, type SiteNode } from "./edgeNodes";
import type { SiteConstraintOptions } from "../policies/gatekeeper/catalog";
import { siteHostPaths } from "../policies/siteHostPaths";
import { getProfile, type ProfileName } from "./profiles";
import { parseCpuMillis, parseMemoryMiB } from "./quantity";
import type { ResourceSpec } from "./sizeClasses";
import type { SiteSpec } from "./schema";

export { DEFAULT_TRACKER_IMAGE } from "../components/images";

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

/** The operator's overrides in the site layer's terms. */
export function componentOverrides(site: SiteSpec): SiteOverrides {
  const o = site.overrides;
  const profile = site.profile;
  return {
    trackerReplicas: o.tracker?.replicas,
    trackerResources: o.tracker?.resources ? trackerResources(profile, o.tracker.resources) : undefined,
    monitoring: o.monitoring
      ? { agentMode: o.monitoring.agentMode, remoteWriteUrl: o.monitoring.remoteWriteUrl }
      : undefined,
    gatekeeper: o.gatekeeper
      ? { controllerReplicas: o.gatekeeper.replicas, validatingFailurePolicy: o.gatekeeper.failurePolicy }
      : undefined,
  };
}

/**
 * What the site layer resolves a site from (planSite/resolveSite): pure, so
 * validate() judges a site exactly as the layer will build it. `at` is the
 * site's config path, edgefleet:sites[i].
 */
export function siteResolveArgs(site: SiteSpec, at: string): ResolveArgs {
  return {
    site: site.name,
    profile: getProfile(site.profile),
    nodes: siteNodes(site, at),
    overrides: componentOverrides(site),
  };
}

/**
 * The options a site's Constraints are rendered with, and CrossGuard's shared
 * rules judge its workloads with (scripts/inventory/policy-config.ts): the
 * size class its nodes can all give a pod, the stack's allowed registries
 * (nothing because a stack merely uses it), its profile's host paths.
 */
export function siteConstraintOptions(
  site: SiteSpec,
  nodes: ReadonlyArray<SiteNode>,
  allowedRegistries: readonly string[],
): SiteConstraintOptions {
  return {
    sizeClass: limitsSizeClass(nodes),
    extraRegistries: [...allowedRegistries],
    extraHostPaths: siteHostPaths(site),
  };
}
