/**
 * The hostPath entries a site adds to THRESHOLDS.allowedHostPaths, decided by
 * its profile. Both enforcement points ask this one function: the site's
 * Constraints (config/siteLayer.ts `gatekeeperPolicies`) and CrossGuard's
 * per-stack config (scripts/inventory/policy-config.ts), so a site gets the
 * same entries at preview and at admission.
 *
 * Kept loadable by Node's type stripping (imports of types say `type`):
 * policy-config.ts runs under scripts/inventory/run-ts.sh.
 */
import type { ProfileName } from "../config/profiles";
import { THRESHOLDS, type HostPathEntry } from "./thresholds";

/**
 * Profiles whose site layer runs the log shipper, i.e. components/profiles.ts
 * `extras.loki && extras.logShipper`. Listed here instead of read from there
 * because run-ts.sh cannot load components/profiles.ts (it imports types
 * without `type`); test/policy/siteHostPaths.test.ts holds the two equal.
 */
export const SHIPS_CONTAINER_LOGS: Record<ProfileName, boolean> = {
  logisticsHub: false,
  retailCity: false,
  supplyChain: false,
  edgeGeneral: false,
  factoryIiot: true,
};

export function siteHostPaths(site: { profile: ProfileName }): HostPathEntry[] {
  return SHIPS_CONTAINER_LOGS[site.profile] ? THRESHOLDS.logShipperHostPaths.map((e) => ({ ...e })) : [];
}
