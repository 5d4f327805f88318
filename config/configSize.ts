/**
 * How big a stack's config may grow. The engine hands a Node program its
 * whole config in ONE environment variable (PULUMI_CONFIG, a JSON object of
 * key -> string, structured values JSON-encoded inside it), and so does it
 * for a policy pack. Linux caps a single environment string at
 * MAX_ARG_STRLEN = 32 pages = 128 KiB; above that the program never starts:
 * `fork/exec .../node: argument list too long` (pulumi/pulumi#8680, #20402,
 * open). Measured here: a generated edge-general region of 2000 hosts fails
 * that way in about a second (BENCHMARKS.md). So the limit is a hard
 * ceiling on hosts per stack, and the place a region splits into stacks.
 */

/** Linux MAX_ARG_STRLEN: the longest single argv or environment string. */
export const CONFIG_ENV_LIMIT_BYTES = 32 * 4096;
/** Above this share of the limit, a stack is warned so it splits before it breaks. */
export const CONFIG_ENV_WARN_SHARE = 0.75;

/**
 * Bytes of the `PULUMI_CONFIG=...` entry the engine would build from this
 * config: keys qualified as in the stack file, scalar strings as they are,
 * everything else JSON-encoded, plus the name, `=` and the terminating NUL.
 * Secrets count with their plaintext; a stack file's ciphertext is a little
 * longer, so estimates from files err on the safe side.
 */
export function configEnvBytes(rawConfig: Record<string, unknown>): number {
  const asStrings: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawConfig)) asStrings[k] = typeof v === "string" ? v : JSON.stringify(v);
  return Buffer.byteLength(`PULUMI_CONFIG=${JSON.stringify(asStrings)}`) + 1;
}

export interface ConfigSizeFinding {
  level: "warning" | "error";
  bytes: number;
  message: string;
}

/** A warning past 75% of the ceiling, an error past it; undefined when there is room. */
export function checkConfigSize(stack: string, rawConfig: Record<string, unknown>): ConfigSizeFinding | undefined {
  const bytes = configEnvBytes(rawConfig);
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const hosts = countHosts(rawConfig["edgefleet:sites"]);
  const what = `stack ${stack}: its config (${hosts} hosts) is ${kib(bytes)} of the ${kib(CONFIG_ENV_LIMIT_BYTES)} that Pulumi can pass to the program`;
  const why = "(the engine passes the whole config in one environment variable, capped by Linux; pulumi/pulumi#8680)";
  const fix =
    "fix: move the hosts into an inventory file the stack names (edgefleet:inventory; scripts/inventory/import.ts --inventory <file> writes one; README: Add a region)";
  if (bytes > CONFIG_ENV_LIMIT_BYTES)
    return {
      level: "error",
      bytes,
      message: `${what} ${why}; \`pulumi up\` would fail with "argument list too long". ${fix}.`,
    };
  if (bytes > CONFIG_ENV_LIMIT_BYTES * CONFIG_ENV_WARN_SHARE)
    return { level: "warning", bytes, message: `${what} ${why}; it will stop working past the limit. ${fix}.` };
  return undefined;
}

/** Sites as a stack file holds them, or as the engine passes them (JSON text). */
function countHosts(value: unknown): number {
  let sites = value;
  if (typeof value === "string") {
    try {
      sites = JSON.parse(value);
    } catch {
      return 0;
    }
  }
  if (!Array.isArray(sites)) return 0;
  return sites.reduce<number>((n, s) => {
    const hosts = (s as { hosts?: unknown } | null)?.hosts;
    return n + (Array.isArray(hosts) ? hosts.length : 0);
  }, 0);
}
