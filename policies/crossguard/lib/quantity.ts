/**
 * Kubernetes resource quantities, parsed the way OPA's units.parse reads them
 * in the Gatekeeper Rego (decimal SI suffixes, binary Ki..Ei, `m` for milli,
 * plain and exponent numbers), so both enforcement points compare the same
 * numbers. Returns undefined for anything the API server would reject.
 */
const SUFFIX: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/;

export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === "number") return Number.isFinite(q) ? q : undefined;
  if (typeof q !== "string") return undefined;
  const m = QUANTITY.exec(q.trim());
  if (!m) return undefined;
  const factor = SUFFIX[m[2]];
  if (factor === undefined) return undefined;
  return Number(m[1]) * factor;
}

/**
 * a > b * ratio on decimal quantities without binary floating-point noise
 * (0.05 * 4 must equal 0.2, as it does in OPA's decimal arithmetic).
 */
export function exceeds(a: number, b: number, ratio = 1): boolean {
  const scale = 1e9;
  return Math.round(a * scale) > Math.round(b * ratio * scale);
}

export function cpuMillis(q: unknown): number | undefined {
  const v = parseQuantity(q);
  return v === undefined ? undefined : Math.round(v * 1e6) / 1e3;
}

export function memoryMiB(q: unknown): number | undefined {
  const v = parseQuantity(q);
  return v === undefined ? undefined : v / 2 ** 20;
}
