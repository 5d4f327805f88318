/**
 * The K3s release version grammar: the one definition, for the stack config
 * (config/schema.ts), the upgrade rules (infra/render/upgrade.ts, through
 * infra/versionGuard.ts) and CrossGuard's k3s-pinned rule
 * (policies/crossguard/rules/hostLayer.ts).
 *
 * K3s tags a release as the Kubernetes version it ships plus its own rebuild
 * number: v1.34.2+k3s1. Nothing else is a pin: not a channel (stable,
 * latest), not a bare Kubernetes version (v1.34.2), not a release candidate
 * (v1.34.2-rc1+k3s1). Kubernetes has only ever had major version 1.
 *
 * Imports nothing, so the CrossGuard pack and Node's type stripping load it
 * as it is.
 */

export const K3S_VERSION = /^v1\.(\d+)\.(\d+)\+k3s(\d+)$/;

/** An example of the form, for messages. */
export const K3S_VERSION_EXAMPLE = "v1.34.2+k3s1";

/** A release of Kubernetes v1.<minor>.<patch>, K3s build <k3s>. */
export interface K3sVersion {
  minor: number;
  patch: number;
  /** The N of +k3sN: K3s's own rebuild of the same Kubernetes patch. */
  k3s: number;
  raw: string;
}

export function isK3sVersion(v: unknown): v is string {
  return typeof v === "string" && K3S_VERSION.test(v);
}

export function parseK3sVersion(v: string): K3sVersion {
  const m = K3S_VERSION.exec(v);
  if (!m) throw new Error(`"${v}" is not a K3s release version (expected the form ${K3S_VERSION_EXAMPLE})`);
  return { minor: Number(m[1]), patch: Number(m[2]), k3s: Number(m[3]), raw: v };
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareK3sVersions(a: K3sVersion, b: K3sVersion): number {
  return a.minor - b.minor || a.patch - b.patch || a.k3s - b.k3s;
}
