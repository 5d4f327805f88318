/**
 * A validated site in the site layer's terms: its overrides, its nodes and
 * what planSite/resolveSite take. Pure and loadable by Node's type stripping
 * (no file reads, imports of types say `type`), so validate() judges a site
 * with exactly the arguments the site layer will build it from.
 */
import type { ImageRef, ResourceSpec } from "../components/render/common";
import type { ResolveArgs, SiteOverrides } from "../components/render/site";
import { getProfile } from "../components/profiles";
import { siteNodes } from "./edgeNodes";
import { SITE_LAYER_PROFILE, type SiteLayerProfileName } from "./profiles";
import { parseCpuMillis, parseMemoryMiB } from "./quantity";
import type { SiteSpec } from "./schema";

/** The tracker image when a site names none: pinned, never `latest`. */
export const DEFAULT_TRACKER_IMAGE: ImageRef = { registry: "ghcr.io", repository: "edgefleet/tracker", tag: "0.4.2" };

type Quantities = { cpu?: string | number; memory?: string };

/** The operator's tracker requests/limits over the profile's, as numbers. */
export function trackerResources(
  profile: SiteLayerProfileName,
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
  const profile = SITE_LAYER_PROFILE[site.profile];
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
    profile: getProfile(SITE_LAYER_PROFILE[site.profile]),
    nodes: siteNodes(site, at),
    overrides: componentOverrides(site),
  };
}
