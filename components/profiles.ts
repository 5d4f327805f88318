/**
 * Tracker replicas per site and region from a profile (config/profiles.ts
 * holds the profiles themselves; config/capacity.ts the site capacity model).
 */
import type { Profile } from "../config/profiles";

/**
 * Replicas per edge node in the case: its fleet's tracker replicas over its
 * edge nodes (logistics 400/2000 = 0.2, retail 0.2, supply chain 0.2, edge
 * general 0.02, factory 0.1).
 */
export function replicasPerEdgeNode(profile: Profile): number {
  return profile.fleet.trackerReplicas / profile.fleet.edgeNodes;
}

/**
 * A single site's tracker replicas: max(1, round(edgeNodes x R / N)) with R/N
 * the case's replicas per edge node. Rounding per site alone does not keep a
 * region's sum exact; a region's stack should call `regionTrackerReplicas`
 * and pass each site's share as `SiteArgs.trackerReplicas`.
 */
export function siteTrackerReplicas(profile: Profile, edgeNodes: number): number {
  assertNodes(edgeNodes);
  return Math.max(1, Math.round(edgeNodes * replicasPerEdgeNode(profile)));
}

/**
 * Splits a region's tracker total across its sites (each its own cluster).
 *
 * Formula: target T = round(sum(n_i) x R / N); every site first gets 1 (a site
 * without a tracker serves nothing), the remaining T - S replicas go by the
 * largest-remainder (Hamilton) method on the quotas q_i = n_i x (T - S) / sum(n),
 * ties to the larger site, then name order. So the region's total is exactly T;
 * for a region that is the case's whole fleet (sum(n) = N) it is the case's R.
 * Fails when the region has more sites than T, since "at least one per site" and
 * "sum = T" cannot both hold (e.g. 2000 single-node logistics sites with 400
 * replicas: group centres into multi-node sites, or accept one per site).
 */
export function regionTrackerReplicas(profile: Profile, sites: Record<string, number>): Record<string, number> {
  const names = Object.keys(sites).sort();
  if (names.length === 0) throw new Error("a region needs at least one site");
  names.forEach((n) => assertNodes(sites[n]));
  const totalNodes = names.reduce((a, n) => a + sites[n], 0);
  const target = Math.round(totalNodes * replicasPerEdgeNode(profile));
  if (target < names.length) {
    throw new Error(
      `region of ${names.length} sites / ${totalNodes} edge nodes gets ${target} ${profile.name} trackers ` +
        `(${profile.fleet.trackerReplicas} per ${profile.fleet.edgeNodes} nodes): fewer than one per site`,
    );
  }
  const spare = target - names.length;
  const quotas = names.map((n) => ({ n, q: (sites[n] * spare) / totalNodes }));
  const out: Record<string, number> = {};
  quotas.forEach(({ n, q }) => (out[n] = 1 + Math.floor(q)));
  let left = target - Object.values(out).reduce((a, b) => a + b, 0);
  const order = [...quotas].sort(
    (a, b) => b.q - Math.floor(b.q) - (a.q - Math.floor(a.q)) || sites[b.n] - sites[a.n] || a.n.localeCompare(b.n),
  );
  for (const { n } of order) {
    if (left === 0) break;
    out[n] += 1;
    left -= 1;
  }
  return out;
}

function assertNodes(edgeNodes: number): void {
  if (!Number.isInteger(edgeNodes) || edgeNodes < 1) {
    throw new Error(`edge node count must be a positive integer, got ${edgeNodes}`);
  }
}
