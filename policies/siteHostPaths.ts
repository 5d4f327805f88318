/**
 * The hostPath entries a site adds to THRESHOLDS.allowedHostPaths, decided by
 * its profile. Both enforcement points ask this one function: the site's
 * Constraints (config/siteLayer.ts `gatekeeperPolicies`) and CrossGuard's
 * per-stack config (scripts/inventory/policy-config.ts), so a site gets the
 * same entries at preview and at admission.
 *
 * The decision is the site layer's own profile: a site ships container logs
 * where its profile runs Loki and the log shipper.
 *
 * Kept loadable by Node's type stripping (imports of types say `type`):
 * policy-config.ts runs under scripts/inventory/run-ts.sh.
 */
import { getProfile, type ProfileName } from "../config/profiles";
import { THRESHOLDS, type HostPathEntry } from "./thresholds";

export function siteHostPaths(site: { profile: ProfileName }): HostPathEntry[] {
  const { loki, logShipper } = getProfile(site.profile).extras;
  return loki && logShipper ? THRESHOLDS.logShipperHostPaths.map((e) => ({ ...e })) : [];
}
