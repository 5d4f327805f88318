/**
 * Kubernetes resource quantities: the one parser, for the stack config
 * (config/), the site layer's footprint (components/) and the CrossGuard
 * pack (policies/crossguard). The grammar is the API server's
 * (k8s.io/apimachinery resource.Quantity):
 *
 *   quantity ::= [+-] number suffix
 *   number   ::= digits | digits "." digits | digits "." | "." digits
 *   suffix   ::= "" | n | u | m | k | M | G | T | P | E      decimal SI
 *              | Ki | Mi | Gi | Ti | Pi | Ei                  binary SI
 *              | (e | E) [+-] digits                          decimal exponent
 *
 * so `K` (upper case), `KB`, `1.5Gi ` with a unit typo or a space inside are
 * not quantities, and the API server refuses them too. A plain finite number
 * (YAML `cpu: 2`) is a quantity of that many units. Values come back in base
 * units (cores, bytes), or as millicores and MiB, the units of
 * config/sizeClasses.ts. Imports nothing, so the CrossGuard pack and Node's
 * type stripping (scripts/inventory/run-ts.sh) load it as it is.
 */

const DECIMAL_SI: Record<string, number> = {
  "": 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const BINARY_SI: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/;

export const MiB = 2 ** 20;

/** A quantity in base units (cores, bytes); undefined for anything the API server would refuse. */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === "number") return Number.isFinite(q) ? q : undefined;
  if (typeof q !== "string") return undefined;
  const m = QUANTITY.exec(q);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[3] !== undefined) return n * 10 ** Number(m[3]);
  const suffix = m[2] ?? "";
  return n * (BINARY_SI[suffix] ?? DECIMAL_SI[suffix]);
}

/** CPU in millicores (to a thousandth of a millicore, without floating-point noise: "0.1" is 100). */
export function parseCpuMillis(q: unknown): number | undefined {
  const v = parseQuantity(q);
  return v === undefined ? undefined : Math.round(v * 1e6) / 1e3;
}

/** Memory in MiB (fractional where the quantity is not a whole MiB). */
export function parseMemoryMiB(q: unknown): number | undefined {
  const v = parseQuantity(q);
  return v === undefined ? undefined : v / MiB;
}

/** The quantity string for millicores ("250m"). */
export function cpuQuantity(millis: number): string {
  return `${millis}m`;
}

/** The quantity string for MiB ("512Mi"). */
export function memoryQuantity(mib: number): string {
  return `${mib}Mi`;
}

/**
 * a > b * ratio on decimal quantities without binary floating-point noise
 * (0.05 * 4 must equal 0.2, as it does in OPA's decimal arithmetic, which the
 * Gatekeeper twins of the CrossGuard rules compare with).
 */
export function exceeds(a: number, b: number, ratio = 1): boolean {
  const scale = 1e9;
  return Math.round(a * scale) > Math.round(b * ratio * scale);
}
