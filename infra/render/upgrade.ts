/**
 * K3s version rules for upgrades, checked at preview time.
 *
 * Kubernetes supports upgrading one minor at a time and never downgrading
 * (etcd data and API storage versions only move forward); K3s follows the
 * same rule for servers. The version grammar is config/k3sVersion.ts.
 */
import { compareK3sVersions, parseK3sVersion } from "../../config/k3sVersion";
import type { NodeRole } from "./k3sConfig";

export type UpgradeKind = "none" | "k3s-rebuild" | "patch" | "minor";

/**
 * Whether a cluster at `fromVersion` may move to `toVersion`. Throws with the
 * reason (downgrade, skipped minor) and what to do instead.
 */
export function validateUpgrade(fromVersion: string, toVersion: string): UpgradeKind {
  const from = parseK3sVersion(fromVersion);
  const to = parseK3sVersion(toVersion);
  const cmp = compareK3sVersions(to, from);
  if (cmp === 0) return "none";
  if (cmp < 0) {
    throw new Error(
      `K3s downgrade from ${from.raw} to ${to.raw} refused: Kubernetes does not support downgrades ` +
        `(etcd and stored API versions only move forward). Keep ${from.raw} or pick a newer release.`,
    );
  }
  if (to.minor - from.minor > 1) {
    const steps: string[] = [];
    for (let m = from.minor + 1; m < to.minor; m++) steps.push(`v1.${m}.x`);
    throw new Error(
      `K3s upgrade from ${from.raw} to ${to.raw} refused: it skips minor version(s) ${steps.join(", ")}. ` +
        `Kubernetes upgrades one minor at a time; upgrade to the latest ${steps[0]} release first.`,
    );
  }
  if (to.minor > from.minor) return "minor";
  return to.patch > from.patch ? "patch" : "k3s-rebuild";
}

export interface UpgradeHost {
  name: string;
  role: NodeRole;
}

/**
 * Steps of a rolling upgrade: each server alone (etcd keeps quorum with one
 * member down), in inventory order, then agents in batches of `batchSize`.
 * Each step must report Ready at the new version before the next starts.
 */
export function upgradePlan(hosts: UpgradeHost[], batchSize: number): string[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`upgrade batch size must be a positive integer, got ${batchSize}`);
  }
  const seen = new Set<string>();
  for (const h of hosts) {
    if (seen.has(h.name)) throw new Error(`host "${h.name}" appears twice in the upgrade inventory`);
    seen.add(h.name);
  }
  const steps: string[][] = hosts.filter((h) => h.role === "server").map((h) => [h.name]);
  const agents = hosts.filter((h) => h.role === "agent").map((h) => h.name);
  for (let i = 0; i < agents.length; i += batchSize) steps.push(agents.slice(i, i + batchSize));
  return steps;
}
