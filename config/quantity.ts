/**
 * Kubernetes resource quantities, the subset a stack config uses: CPU as
 * cores ("2", "0.5", 2) or millicores ("250m"); memory with a binary
 * (Ki/Mi/Gi/Ti) or decimal (k/M/G/T) suffix, or plain bytes. Parsed to the
 * units of config/sizeClasses.ts (millicores, MiB) so that capacity checks
 * compare like with like. Anything else returns undefined and the caller
 * reports it with the key path.
 */

const CPU = /^(\d+(?:\.\d+)?)(m?)$/;
const MEMORY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/;

const MEMORY_FACTOR_BYTES: Record<string, number> = {
  "": 1,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
};

/** CPU quantity to millicores; undefined when malformed. */
export function parseCpuMillis(q: string | number): number | undefined {
  if (typeof q === "number") return Number.isFinite(q) && q >= 0 ? Math.round(q * 1000) : undefined;
  const m = CPU.exec(q.trim());
  if (!m) return undefined;
  const value = Number(m[1]);
  return m[2] === "m" ? Math.round(value) : Math.round(value * 1000);
}

/** Memory quantity to MiB (fractional allowed); undefined when malformed. */
export function parseMemoryMiB(q: string | number): number | undefined {
  if (typeof q === "number") return Number.isFinite(q) && q >= 0 ? q / 1024 ** 2 : undefined;
  const m = MEMORY.exec(q.trim());
  if (!m) return undefined;
  return (Number(m[1]) * MEMORY_FACTOR_BYTES[m[2] ?? ""]) / 1024 ** 2;
}
