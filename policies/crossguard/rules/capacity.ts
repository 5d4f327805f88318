/**
 * Stack rule: what the site's workloads request must fit its edge nodes.
 * Deployments, StatefulSets and ReplicaSets count replicas x Pod requests,
 * DaemonSets one Pod per edge node; Jobs and CronJobs come and go and are left
 * to the scheduler. Capacity is edge nodes x allocatable of the size class
 * (config/sizeClasses.ts), the same figure the max-limits rule uses per Pod.
 */
import { SIZE_CLASSES, SizeClassName, allocatable } from "../../../config/sizeClasses";
import { exceeds, parseCpuMillis, parseMemoryMiB } from "../../../config/quantity";
import { Workload } from "../lib/workload";

export interface SiteCapacity {
  edgeNodes: number;
  sizeClass: SizeClassName;
}

export interface PodRequests {
  cpuMillis: number;
  memoryMiB: number;
}

/** Effective Pod requests as the scheduler sees them: containers summed, init containers at their peak. */
export function podRequests(w: Workload): PodRequests {
  const sum = (r: "cpu" | "memory", f: (q: unknown) => number | undefined) =>
    (w.podSpec.containers ?? []).reduce((acc, c) => acc + (f(c.resources?.requests?.[r]) ?? 0), 0);
  const peak = (r: "cpu" | "memory", f: (q: unknown) => number | undefined) =>
    Math.max(0, ...(w.podSpec.initContainers ?? []).map((c) => f(c.resources?.requests?.[r]) ?? 0));
  return {
    cpuMillis: Math.max(sum("cpu", parseCpuMillis), peak("cpu", parseCpuMillis)),
    memoryMiB: Math.max(sum("memory", parseMemoryMiB), peak("memory", parseMemoryMiB)),
  };
}

export function siteDemand(workloads: Workload[], site: SiteCapacity): PodRequests {
  let cpu = 0;
  let mem = 0;
  for (const w of workloads) {
    const copies =
      w.kind === "DaemonSet"
        ? site.edgeNodes
        : w.kind === "Deployment" || w.kind === "StatefulSet" || w.kind === "ReplicaSet"
          ? (w.replicas ?? 1)
          : 0;
    const r = podRequests(w);
    cpu += copies * r.cpuMillis;
    mem += copies * r.memoryMiB;
  }
  return { cpuMillis: cpu, memoryMiB: mem };
}

export function edgeCapacityViolations(site: string, workloads: Workload[], cap: SiteCapacity): string[] {
  if (!SIZE_CLASSES[cap.sizeClass]) return [`site ${site}: unknown size class ${JSON.stringify(cap.sizeClass)}`];
  const a = allocatable(SIZE_CLASSES[cap.sizeClass]);
  const have = { cpuMillis: a.cpuMillis * cap.edgeNodes, memoryMiB: a.memoryMiB * cap.edgeNodes };
  const need = siteDemand(workloads, cap);
  const out: string[] = [];
  const where = `site ${site} (${cap.edgeNodes} x ${cap.sizeClass} edge nodes)`;
  if (exceeds(need.cpuMillis, have.cpuMillis)) {
    out.push(`${where}: workloads request ${need.cpuMillis}m CPU, more than the ${have.cpuMillis}m allocatable`);
  }
  if (exceeds(need.memoryMiB, have.memoryMiB)) {
    out.push(`${where}: workloads request ${need.memoryMiB}Mi memory, more than the ${have.memoryMiB}Mi allocatable`);
  }
  return out;
}
