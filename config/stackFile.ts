/**
 * Reads a stack file (stacks/Pulumi.<stack>.yaml) the way the Pulumi engine
 * would hand it to the program, without decrypting anything: `secure:`
 * values become an opaque placeholder and their top-level key is reported as
 * secret, as the engine does. Lets tests, the inventory importer and CI check
 * a stack file with validate() offline and without the passphrase.
 */
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { parse, YAMLParseError } from "yaml";

export const SECRET_PLACEHOLDER = "[secret]";

/** The stack a `Pulumi.<stack>.yaml` file configures. */
export function stackNameOf(file: string): string {
  return basename(file)
    .replace(/^Pulumi\./, "")
    .replace(/\.yaml$/, "");
}

/** A tool's `--stack` argument: a stack file's path, or a stack name meaning stacks/Pulumi.<name>.yaml. */
export function stackFilePath(stackOrFile: string): string {
  return existsSync(stackOrFile) ? stackOrFile : join("stacks", `Pulumi.${stackOrFile}.yaml`);
}

export interface StackFileConfig {
  rawConfig: Record<string, unknown>;
  secretKeys: Set<string>;
  /** Top-level fields besides config (encryptionsalt, secretsprovider, ...). */
  encryptionSalt?: string;
}

function isSecure(v: unknown): v is { secure: string } {
  return (
    v !== null &&
    typeof v === "object" &&
    !Array.isArray(v) &&
    Object.keys(v).length === 1 &&
    typeof (v as { secure?: unknown }).secure === "string"
  );
}

function strip(v: unknown, found: { secret: boolean }): unknown {
  if (isSecure(v)) {
    found.secret = true;
    return SECRET_PLACEHOLDER;
  }
  if (Array.isArray(v)) return v.map((x) => strip(x, found));
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x, found)]));
  }
  return v;
}

/**
 * A stack file's config. `file` names it in messages: a YAML syntax error
 * comes back as `<file>:<line>:<column>: <what>`, with the fix.
 */
export function parseStackFile(text: string, file = "stack file"): StackFileConfig {
  let doc: unknown;
  try {
    doc = parse(text) ?? {};
  } catch (e) {
    if (!(e instanceof YAMLParseError)) throw e;
    const at = e.linePos?.[0];
    const where = at ? `${file}:${at.line}:${at.col}` : file;
    const what = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new Error(
      `${where}: not valid YAML: ${what}. Fix: correct the YAML at line ${at?.line ?? "?"}, column ${at?.col ?? "?"} ` +
        "(an unclosed bracket or quote, or a tab in the indentation, are the usual causes).",
    );
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    throw new Error(`${file}: expected a YAML mapping at the top`);
  const top = doc as Record<string, unknown>;
  const config = top.config ?? {};
  if (config === null || typeof config !== "object" || Array.isArray(config))
    throw new Error(`${file}: \`config\` must be a mapping`);
  const rawConfig: Record<string, unknown> = {};
  const secretKeys = new Set<string>();
  for (const [key, value] of Object.entries(config)) {
    const found = { secret: false };
    rawConfig[key] = strip(value, found);
    if (found.secret) secretKeys.add(key);
  }
  const out: StackFileConfig = { rawConfig, secretKeys };
  if (typeof top.encryptionsalt === "string") out.encryptionSalt = top.encryptionsalt;
  return out;
}
