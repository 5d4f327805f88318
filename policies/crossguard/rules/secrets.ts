/**
 * No secret-looking value in plain configuration.
 *
 * The CrossGuard SDK hands policies secret values already unwrapped, so a
 * policy cannot tell a Pulumi secret from a plain string. The rule therefore
 * checks the places that are plain by construction: ConfigMap data, container
 * `env[].value`, the plain `environment` of host commands, and (anywhere but
 * in Secrets, providers and fields meant for secrets) values that are
 * unmistakably key material. Stack config files get `plainConfigSecrets`.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { containersOf, workloadOf } from "../lib/workload";

export interface SecretsConfig {
  /** Key names that announce a secret. */
  keyPattern: string;
  /** Key names that only point at a secret (a file, a reference). */
  keyExceptPattern: string;
  /** Values that are key material whatever their key. */
  valuePatterns: string[];
  /** Resource types whose props are secret by design. */
  ignoreTypes: string[];
  /** Prop names meant to carry secrets (whose values the engine encrypts). */
  ignoreProps: string[];
}

export const SECRETS_DEFAULTS: SecretsConfig = {
  keyPattern: "(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credentials?|requirepass|masterauth)$",
  keyExceptPattern: "(_file|_path|file|path|ref|name|secretenvironment)$",
  valuePatterns: [
    "-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "\\bAKIA[0-9A-Z]{16}\\b",
    "\\bK10[0-9a-f]{64}::", // K3s secure join token
    "\\bgh[pousr]_[A-Za-z0-9]{36}\\b",
    "\\beyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}", // JWT
  ],
  ignoreTypes: ["kubernetes:core/v1:Secret", "pulumi:providers:"],
  ignoreProps: ["secretEnvironment", "connection", "privateKey", "stringData", "__provider"],
};

/** `key: value` / `key = value` / `"key": "value"` lines inside config files. */
const INLINE_ASSIGNMENT = /(["']?)([A-Za-z0-9_.-]+)\1[ \t]*[:=][ \t]*["']?([^\s"',}]+)/g;

function secretKey(key: string, cfg: SecretsConfig): boolean {
  return new RegExp(cfg.keyPattern, "i").test(key) && !new RegExp(cfg.keyExceptPattern, "i").test(key);
}

function keyMaterial(value: string, cfg: SecretsConfig): string | undefined {
  return cfg.valuePatterns.find((p) => new RegExp(p).test(value));
}

/** A plain value, not a reference to one ($VAR, ${VAR}, {{ template }}). */
function literal(value: unknown): value is string {
  return typeof value === "string" && value !== "" && !/^(\$|\{\{)/.test(value);
}

function scanText(where: string, text: string, cfg: SecretsConfig): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(INLINE_ASSIGNMENT)) {
    if (secretKey(m[2], cfg) && literal(m[3])) out.push(`${where}: ${m[2]} is set in plain text`);
  }
  // Config formats without `key: value` (redis.conf's `requirepass x`).
  for (const m of text.matchAll(/^\s*(requirepass|masterauth)\s+(\S+)/gm)) {
    if (literal(m[2])) out.push(`${where}: ${m[1]} is set in plain text`);
  }
  const material = keyMaterial(text, cfg);
  if (material) out.push(`${where}: contains key material (${material})`);
  return out;
}

function walk(o: any, path: string, cfg: SecretsConfig, out: string[]): void {
  if (typeof o === "string") {
    const material = keyMaterial(o, cfg);
    if (material) out.push(`${path}: contains key material (${material})`);
    return;
  }
  if (o === null || typeof o !== "object") return;
  for (const k of Object.keys(o)) {
    // Check the name before touching the value: at preview, reading a value
    // that is not known yet (a secret from another resource) throws, and such
    // a value is judged at `up`, when it is known.
    if (cfg.ignoreProps.includes(k)) continue;
    let v: unknown;
    try {
      v = o[k];
    } catch {
      continue;
    }
    walk(v, path ? `${path}.${k}` : k, cfg, out);
  }
}

export function plainSecretViolations(type: string, props: Record<string, any>, cfg: SecretsConfig): string[] {
  if (cfg.ignoreTypes.some((t) => type.startsWith(t))) return [];
  const out: string[] = [];
  if (type === "kubernetes:core/v1:ConfigMap") {
    for (const [k, v] of Object.entries<any>(props?.data ?? {})) {
      if (secretKey(k, cfg) && literal(v)) out.push(`ConfigMap data.${k} looks like a secret: use a Secret`);
      else if (typeof v === "string") out.push(...scanText(`ConfigMap data.${k}`, v, cfg));
    }
  }
  const w = workloadOf(type, props ?? {});
  if (w) {
    for (const c of containersOf(w.podSpec, true)) {
      for (const e of c.env ?? []) {
        if (secretKey(e?.name ?? "", cfg) && literal(e?.value)) {
          out.push(`container ${JSON.stringify(c.name)} env ${e.name} has a plain value: use valueFrom.secretKeyRef`);
        }
      }
    }
  }
  for (const [k, v] of Object.entries<any>(props?.environment ?? {})) {
    if (secretKey(k, cfg) && literal(v)) out.push(`environment.${k} looks like a secret: use secretEnvironment`);
  }
  if (out.length === 0) walk(props, "", cfg, out);
  return [...new Set(out)];
}

/**
 * Pulumi stack config (Pulumi.<stack>.yaml `config:`): a secret-looking key
 * must hold a `secure:` value, never plain text.
 */
export function plainConfigSecrets(config: Record<string, unknown>, cfg: SecretsConfig = SECRETS_DEFAULTS): string[] {
  const out: string[] = [];
  const visit = (v: unknown, path: string, key: string) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      if ("secure" in (v as object)) return;
      for (const [k, inner] of Object.entries(v as object)) visit(inner, `${path}.${k}`, k);
      return;
    }
    if (secretKey(key.split(":").pop() ?? key, cfg) && literal(v))
      out.push(`config ${path} is plain text: set it with --secret`);
    else if (typeof v === "string" && keyMaterial(v, cfg))
      out.push(`config ${path} contains key material: set it with --secret`);
  };
  for (const [k, v] of Object.entries(config)) visit(v, k, k);
  return out;
}
