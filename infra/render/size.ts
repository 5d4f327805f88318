import {
  SIZE_CLASSES,
  SIZE_CLASS_NAMES,
  customSizeClass,
  type Resources,
  type SizeClass,
  type SizeClassName,
} from "../../config/sizeClasses";

/** A host's declared size: a named class, or explicit capacity. */
export type SizeSpec = SizeClassName | { cpuMillis: number; memoryMiB: number };

/**
 * The size class a host is held to: a named class as it is, an explicit size
 * with its own capacity and the reservations of the class
 * config/sizeClasses.ts's sizeClassFor picks for it.
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
  return customSizeClass({ cpuMillis, memoryMiB });
}

/** kubelet quantity strings ("250m", "512Mi") for a Resources pair. */
export function kubeletQuantities(r: Resources): string {
  return `cpu=${r.cpuMillis}m,memory=${r.memoryMiB}Mi`;
}
