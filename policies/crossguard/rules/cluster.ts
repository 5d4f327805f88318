/**
 * Stack-level rules on the site's shape: an odd number of HA servers, and the
 * advisory companions of a replicated tracker (PDB, HPA) and of every
 * long-running container (probes).
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { k3sServerCount } from "../../../config/k3sDatastore";
import { type Workload } from "../lib/workload";

/** A site's server count, judged by config/k3sDatastore.ts: 1 (SQLite) or an odd number of at least 3 (embedded etcd). */
export function haServerViolations(servers: number | undefined): string[] {
  if (servers === undefined) return [];
  const count = k3sServerCount(servers);
  return count.verdict === "runs" ? [] : [`a site has ${count.problem}; fix: ${count.fix}`];
}

export interface TrackerSelector {
  namespaces: string[];
  label: { key: string; value: string };
}

export function isTracker(w: Workload, t: TrackerSelector): boolean {
  return (
    (w.namespace !== undefined && t.namespaces.includes(w.namespace)) || w.podLabels[t.label.key] === t.label.value
  );
}

export interface K8sObject {
  kind: string;
  namespace?: string;
  props: Record<string, any>;
}

function selectorMatches(selector: any, labels: Record<string, string>): boolean {
  const ml: Record<string, string> = selector?.matchLabels ?? {};
  if (selector?.matchExpressions?.length) return false; // not evaluated: treat as no match, stay advisory
  return Object.keys(ml).length > 0 && Object.entries(ml).every(([k, v]) => labels[k] === v);
}

/** Advisory: a tracker with more than one replica should have a PDB and an HPA. */
export function replicatedTrackerViolations(workloads: Workload[], others: K8sObject[], t: TrackerSelector): string[] {
  const out: string[] = [];
  for (const w of workloads) {
    if (w.kind !== "Deployment" || !isTracker(w, t) || (w.replicas ?? 1) < 2) continue;
    const sameNs = (o: K8sObject) => (o.namespace ?? "") === (w.namespace ?? "");
    const pdb = others.some(
      (o) => o.kind === "PodDisruptionBudget" && sameNs(o) && selectorMatches(o.props?.spec?.selector, w.podLabels),
    );
    const hpa = others.some(
      (o) =>
        o.kind === "HorizontalPodAutoscaler" &&
        sameNs(o) &&
        o.props?.spec?.scaleTargetRef?.kind === "Deployment" &&
        o.props?.spec?.scaleTargetRef?.name === w.name,
    );
    if (!pdb)
      out.push(`tracker Deployment ${w.name} has ${w.replicas} replicas but no PodDisruptionBudget selecting its Pods`);
    if (!hpa)
      out.push(`tracker Deployment ${w.name} has ${w.replicas} replicas but no HorizontalPodAutoscaler targeting it`);
  }
  return out;
}

/** Advisory: long-running containers have readiness and liveness probes (Jobs finish, init containers too). */
export function probeViolations(w: Workload): string[] {
  if (w.kind === "Job" || w.kind === "CronJob") return [];
  const out: string[] = [];
  for (const c of w.podSpec.containers ?? []) {
    for (const probe of ["readinessProbe", "livenessProbe"] as const) {
      if (!c[probe]) out.push(`container ${JSON.stringify(c.name)} has no ${probe}`);
    }
  }
  return out;
}
