/**
 * Node size classes of the reference cases (2C4G and 4C8G edge boxes) and what
 * K3s keeps for itself on each. One source for infra/ (kubelet flags),
 * components/ (footprint) and policies/ (limits per size class).
 *
 * The reservations are ours, not the cases': the cases never state them. They
 * follow the kubelet's model (allocatable = capacity - kube-reserved -
 * system-reserved - eviction threshold) with K3s's single-process footprint in
 * kube-reserved (a K3s server idles at roughly 500-700 MiB).
 */
export type SizeClassName = "2c4g" | "4c8g";

export interface Resources {
  /** CPU in millicores. */
  cpuMillis: number;
  /** Memory in MiB. */
  memoryMiB: number;
}

/** Requests and limits, in the units above. */
export interface ResourceSpec {
  requests: Resources;
  limits: Resources;
}

export interface SizeClass {
  capacity: Resources;
  kubeReserved: Resources;
  systemReserved: Resources;
  /** kubelet eviction-hard memory.available threshold, MiB. */
  evictionHardMemoryMiB: number;
}

export const SIZE_CLASSES: Record<SizeClassName, SizeClass> = {
  "2c4g": {
    capacity: { cpuMillis: 2000, memoryMiB: 4096 },
    kubeReserved: { cpuMillis: 250, memoryMiB: 512 },
    systemReserved: { cpuMillis: 100, memoryMiB: 256 },
    evictionHardMemoryMiB: 200,
  },
  "4c8g": {
    capacity: { cpuMillis: 4000, memoryMiB: 8192 },
    kubeReserved: { cpuMillis: 400, memoryMiB: 768 },
    systemReserved: { cpuMillis: 200, memoryMiB: 512 },
    evictionHardMemoryMiB: 300,
  },
};

export const SIZE_CLASS_NAMES = Object.keys(SIZE_CLASSES) as SizeClassName[];

/** What the scheduler may hand out on a node of this class. */
export function allocatable(size: SizeClass): Resources {
  return {
    cpuMillis: size.capacity.cpuMillis - size.kubeReserved.cpuMillis - size.systemReserved.cpuMillis,
    memoryMiB:
      size.capacity.memoryMiB -
      size.kubeReserved.memoryMiB -
      size.systemReserved.memoryMiB -
      size.evictionHardMemoryMiB,
  };
}

/**
 * The named class a box of this capacity is held to: it takes that class's
 * reservations (kube-reserved, system-reserved, eviction threshold) and
 * keeps its own capacity.
 *
 * Rule: of the classes the box covers in CPU and in memory, the largest;
 * "largest" is most memory, then, on equal memory, most CPU, because memory
 * is what K3s's reservations and the eviction threshold protect (a K3s
 * server idles at 500-700 MiB whatever its cores). A box smaller than every
 * class is held to the smallest one (least memory, then least CPU): K3s
 * needs that much whatever the box. Ties on both go to the class listed
 * first.
 */
export function sizeClassFor<N extends string>(capacity: Resources, classes: Record<N, SizeClass>): N;
export function sizeClassFor(capacity: Resources): SizeClassName;
export function sizeClassFor(capacity: Resources, classes: Record<string, SizeClass> = SIZE_CLASSES): string {
  const names = Object.keys(classes);
  if (names.length === 0) throw new Error("no size classes to choose from");
  const bigger = (a: string, b: string) =>
    classes[a].capacity.memoryMiB - classes[b].capacity.memoryMiB ||
    classes[a].capacity.cpuMillis - classes[b].capacity.cpuMillis;
  const covered = names.filter(
    (n) => classes[n].capacity.cpuMillis <= capacity.cpuMillis && classes[n].capacity.memoryMiB <= capacity.memoryMiB,
  );
  if (covered.length > 0) return covered.reduce((best, n) => (bigger(n, best) > 0 ? n : best));
  return names.reduce((least, n) => (bigger(n, least) < 0 ? n : least));
}

/** A box of explicit capacity: its own capacity, the reservations of sizeClassFor(capacity). */
export function customSizeClass(capacity: Resources, classes: Record<string, SizeClass> = SIZE_CLASSES): SizeClass {
  return { ...classes[sizeClassFor(capacity, classes)], capacity: { ...capacity } };
}
