import {
  SIZE_CLASSES,
  SIZE_CLASS_NAMES,
  type Resources,
  type SizeClass,
  type SizeClassName,
} from "../../config/sizeClasses";

/** A host's declared size: a named class, or explicit capacity. */
export type SizeSpec = SizeClassName | { cpuMillis: number; memoryMiB: number };

/**
 * The size class a host is held to. An explicit size keeps its own capacity
 * but borrows the reservations of the largest named class it can hold; a box
 * smaller than every class gets the smallest class's reservations, because
 * K3s needs that much whatever the box.
 */
export function resolveSize(spec: SizeSpec): SizeClass {
  if (typeof spec === "string") {
    const c = SIZE_CLASSES[spec];
    if (!c) throw new Error(`unknown size class "${spec}" (known: ${SIZE_CLASS_NAMES.join(", ")})`);
    return c;
  }
  const { cpuMillis, memoryMiB } = spec;
  if (!Number.isInteger(cpuMillis) || cpuMillis <= 0 || !Number.isInteger(memoryMiB) || memoryMiB <= 0) {
    throw new Error(`explicit size needs positive integer cpuMillis and memoryMiB, got ${JSON.stringify(spec)}`);
  }
  const fitting = SIZE_CLASS_NAMES.map((n) => SIZE_CLASSES[n])
    .filter((c) => c.capacity.cpuMillis <= cpuMillis && c.capacity.memoryMiB <= memoryMiB)
    .sort((a, b) => b.capacity.memoryMiB - a.capacity.memoryMiB);
  const base =
    fitting[0] ??
    SIZE_CLASS_NAMES.map((n) => SIZE_CLASSES[n]).sort((a, b) => a.capacity.memoryMiB - b.capacity.memoryMiB)[0];
  return { ...base, capacity: { cpuMillis, memoryMiB } };
}

/** kubelet quantity strings ("250m", "512Mi") for a Resources pair. */
export function kubeletQuantities(r: Resources): string {
  return `cpu=${r.cpuMillis}m,memory=${r.memoryMiB}Mi`;
}
