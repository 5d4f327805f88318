/**
 * Edits of a stack file that keep what a person wrote: comments, key order,
 * flow style. Pure functions from text to text; the CLIs (import.ts,
 * stack-edit.ts) do the file I/O.
 */
import { createHash } from "node:crypto";
import { isMap, isSeq, parseDocument, type Document } from "yaml";

/** No folding: long host keys stay on one line, as prettier leaves them. */
const OUTPUT = { lineWidth: 0 } as const;

function load(text: string): Document.Parsed {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`stack file is not valid YAML: ${doc.errors[0].message}`);
  return doc;
}

/** Sets config[key] at `path` (creating mappings on the way). */
export function setConfigValue(text: string, path: ReadonlyArray<string | number>, value: unknown): string {
  const doc = load(text);
  doc.setIn(["config", ...path], doc.createNode(value));
  return doc.toString(OUTPUT);
}

/**
 * Copies the passphrase salt and the secure value at `path` from `sealed` (a
 * copy that `pulumi config set --secret` rewrote) into `original`, leaving
 * the rest of `original` exactly as written.
 */
export function copySecret(original: string, sealed: string, path: ReadonlyArray<string | number>): string {
  const src = load(sealed);
  const salt = src.get("encryptionsalt");
  const secure: unknown = src.getIn(["config", ...path, "secure"]);
  if (typeof salt !== "string" || typeof secure !== "string") {
    throw new Error(`sealed copy has no encryptionsalt or no secure value at config.${path.join(".")}`);
  }
  const doc = load(original);
  // After config, so that the file's header comment stays its first line; Pulumi reads it anywhere.
  doc.delete("encryptionsalt");
  doc.set("encryptionsalt", salt);
  doc.setIn(["config", ...path], doc.createNode({ secure }));
  return doc.toString(OUTPUT);
}

/** True when the stack file already holds a secure value at `path` and an encryption salt. */
export function hasSecret(text: string, path: ReadonlyArray<string | number>): boolean {
  const doc = load(text);
  return typeof doc.get("encryptionsalt") === "string" && typeof doc.getIn(["config", ...path, "secure"]) === "string";
}

/** Sections whose `artifacts` map names files by `file` and pins them by `sha256`. */
export const ARTIFACT_SECTIONS = ["edgefleet:k3s", "edgefleet:upstream"] as const;

/**
 * sha256 of each file named under edgefleet:k3s.artifacts and
 * edgefleet:upstream.artifacts, written back into the stack text.
 * `sha256Of(dir, file)` gets each section's own artifacts.dir.
 */
export function pinArtifacts(text: string, sha256Of: (dir: string, file: string) => string): string {
  const doc = load(text);
  let found = 0;
  for (const section of ARTIFACT_SECTIONS) {
    const artifacts = doc.getIn(["config", section, "artifacts"]);
    if (!isMap(artifacts)) continue;
    found++;
    const dir: unknown = doc.getIn(["config", section, "artifacts", "dir"]);
    if (typeof dir !== "string") throw new Error(`${section}.artifacts.dir is not set`);
    for (const item of artifacts.items) {
      const key = String((item.key as { value?: unknown })?.value ?? item.key);
      if (key === "dir") continue;
      const file: unknown = doc.getIn(["config", section, "artifacts", key, "file"]);
      if (typeof file !== "string") throw new Error(`${section}.artifacts.${key}.file is not set`);
      doc.setIn(["config", section, "artifacts", key, "sha256"], sha256Of(dir, file));
    }
  }
  if (found === 0) throw new Error("the stack has no edgefleet:k3s.artifacts or edgefleet:upstream.artifacts mapping");
  return doc.toString(OUTPUT);
}

export function sha256Hex(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The sites list node's length, for tests and messages. */
export function siteCount(text: string): number {
  const sites = load(text).getIn(["config", "edgefleet:sites"]);
  return isSeq(sites) ? sites.items.length : 0;
}
