/**
 * Host inventories from outside (a CSV export of an asset database, a YAML
 * list, the lab's inventory.json) into a stack's edgefleet:sites. Pure: text
 * in, text and problems out; import.ts does the I/O.
 *
 * CSV columns (header row required, any order; site, name, address and
 * hostKey are required unless a default is given):
 *   site, profile, name, address, port, user, role, size, labels, taints, hostKey
 *   size:   2c4g | 4c8g | <cpu>/<memory>   e.g. 8/16Gi
 *   labels: key=value;key=value
 *   taints: key[=value]:Effect;...
 * YAML/JSON: a list of host mappings with the same fields (labels a mapping,
 * taints a list), or a mapping with such a list under `hosts`.
 */
import { isSeq, parseDocument, stringify } from "yaml";
import { checkConfigSize } from "../../config/configSize";
import { parseStackFile } from "../../config/stackFile";
import { ConfigError, type ConfigProblem, validate } from "../../config/validate";
import type { StackSpec } from "../../config/schema";
import { validateStack, type ImportDefaults, type InventoryRow } from "../../config/inventory";

// The parser is the program's own (config/inventory.ts): an imported file and
// a stack's inventory file are read the same way.
export {
  parseCsv,
  parseInventory,
  type ImportDefaults,
  type InventoryRow,
  type RowProblem,
} from "../../config/inventory";

const HOST_KEY_ORDER = ["name", "address", "port", "user", "role", "size", "labels", "taints", "hostKey"];

export interface ImportResult {
  text: string;
  /** Set when the merged stack is valid. */
  spec?: StackSpec;
  problems: string[];
  /** Sites whose hosts were replaced, and sites added. */
  replaced: string[];
  added: string[];
  /** Set when the stack works but is near the engine's config ceiling. */
  warning?: string;
  /** Set when the merged stack is past that ceiling: it must be split (import.ts --max-hosts). */
  tooLarge?: string;
}

/**
 * Merges rows into the stack text: each site named in the rows gets exactly
 * those hosts (the inventory is the truth for that site); other sites are
 * untouched; unknown sites are added with their profile. The result is
 * validated as a whole; problems name the input row where one is known.
 */
export function mergeInventory(
  stackName: string,
  stackText: string,
  rows: InventoryRow[],
  defaults: ImportDefaults = {},
): ImportResult {
  const problems: string[] = [];
  const doc = parseDocument(stackText);
  const current = parseStackFile(stackText).rawConfig;
  const ssh = (current["edgefleet:ssh"] ?? {}) as {
    user?: unknown;
    port?: unknown;
  };
  const sitesNode = doc.getIn(["config", "edgefleet:sites"]);
  const existing: string[] = isSeq(sitesNode)
    ? (sitesNode.toJSON() as Array<{ name?: unknown }>).map((s) => String(s?.name))
    : [];
  if (!isSeq(sitesNode)) doc.setIn(["config", "edgefleet:sites"], doc.createNode([]));

  const bySite = new Map<string, InventoryRow[]>();
  for (const r of rows) bySite.set(r.site, [...(bySite.get(r.site) ?? []), r]);

  const sources = new Map<string, string>();
  const replaced: string[] = [];
  const added: string[] = [];
  for (const [site, siteRows] of bySite) {
    const hosts = siteRows.map((r) => {
      const h: Record<string, unknown> = {};
      for (const k of HOST_KEY_ORDER) {
        const v = r.host[k];
        if (v === undefined) continue;
        if (k === "user" && v === ssh.user) continue;
        if (k === "port" && v === (ssh.port ?? 22)) continue;
        if (
          (k === "labels" && Object.keys(v as object).length === 0) ||
          (k === "taints" && (v as unknown[]).length === 0)
        )
          continue;
        h[k] = v;
      }
      return h;
    });
    let idx = existing.indexOf(site);
    if (idx >= 0) {
      doc.setIn(["config", "edgefleet:sites", idx, "hosts"], doc.createNode(hosts));
      replaced.push(site);
    } else {
      const profile = siteRows.find((r) => r.profile)?.profile ?? defaults.profile;
      if (!profile) {
        problems.push(
          `${siteRows[0].source}: site ${site} is new to the stack and has no profile: add a profile column or pass --profile`,
        );
        continue;
      }
      (doc.getIn(["config", "edgefleet:sites"]) as { add(v: unknown): void }).add(
        doc.createNode({ name: site, profile, hosts }),
      );
      idx = existing.length;
      existing.push(site);
      added.push(site);
    }
    siteRows.forEach((r, j) => sources.set(`edgefleet:sites[${idx}].hosts[${j}]`, r.source));
  }

  const text = doc.toString({ lineWidth: 0 });
  const file = parseStackFile(text);
  let spec: StackSpec | undefined;
  try {
    spec = validate(stackName, file.rawConfig, file.secretKeys);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems.map((p) => withSource(p, sources)));
  }
  // A stack past the engine's config ceiling could never run; one near it gets told to split.
  const size = checkConfigSize(stackName, file.rawConfig);
  const result: ImportResult = { text, problems, replaced, added };
  if (size?.level === "error") result.tooLarge = size.message;
  if (size?.level === "warning") result.warning = size.message;
  if (spec && problems.length === 0) result.spec = spec;
  return result;
}

function withSource(p: ConfigProblem, sources: Map<string, string>): string {
  const m = /^edgefleet:sites\[\d+\]\.hosts\[\d+\]/.exec(p.path);
  const src = m ? sources.get(m[0]) : undefined;
  return `${p.path}${src ? ` (${src})` : ""}: ${p.problem}; fix: ${p.fix}`;
}

const INVENTORY_COLUMNS = [
  "site",
  "profile",
  "name",
  "address",
  "port",
  "user",
  "role",
  "size",
  "labels",
  "taints",
  "hostKey",
];

function csvField(v: unknown): string {
  const s = v === undefined || v === null ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvSize(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  const { cpu, memory } = v as { cpu?: unknown; memory?: unknown };
  return `${cpu}/${memory}`;
}

/** Rows as an inventory file the program reads back the same (config/inventory.ts): CSV, or YAML for .yaml/.yml. */
export function formatInventory(rows: InventoryRow[], file: string, profiles: Map<string, string>): string {
  const records = rows.map((r) => {
    const rec: Record<string, unknown> = { site: r.site };
    const profile = profiles.get(r.site);
    if (profile) rec.profile = profile;
    for (const k of HOST_KEY_ORDER) if (r.host[k] !== undefined) rec[k] = r.host[k];
    return rec;
  });
  if (/\.ya?ml$/i.test(file)) return stringify({ hosts: records }, { lineWidth: 0 });
  const lines = [INVENTORY_COLUMNS.join(",")];
  for (const rec of records) {
    lines.push(
      INVENTORY_COLUMNS.map((c) => {
        const v = rec[c];
        if (c === "size") return csvField(csvSize(v));
        if (c === "labels" && v && typeof v === "object")
          return csvField(
            Object.entries(v as Record<string, string>)
              .map(([k, x]) => `${k}=${x}`)
              .join(";"),
          );
        if (c === "taints" && Array.isArray(v)) return csvField(v.join(";"));
        return csvField(v);
      }).join(","),
    );
  }
  return lines.join("\n") + "\n";
}

export interface InventoryFileResult {
  /** The stack file, naming the inventory file under edgefleet:inventory. */
  text: string;
  /** The inventory file's new content. */
  inventoryText: string;
  spec?: StackSpec;
  problems: string[];
}

/**
 * Writes the rows to an inventory file instead of into the stack: the stack
 * names the file under edgefleet:inventory and drops the inline hosts of the
 * sites the rows name (the file is their truth now); new sites take their
 * profile from the rows or --profile. The stack is validated with the new
 * file exactly as the program will read it.
 */
export function mergeInventoryFile(
  stackName: string,
  stackText: string,
  rows: InventoryRow[],
  inventoryFile: string,
  readFile: (file: string) => string,
  defaults: ImportDefaults = {},
): InventoryFileResult {
  const problems: string[] = [];
  const doc = parseDocument(stackText);
  const sitesNode = doc.getIn(["config", "edgefleet:sites"]);
  const existing = isSeq(sitesNode) ? (sitesNode.toJSON() as Array<{ name?: unknown; profile?: unknown }>) : [];
  const profiles = new Map<string, string>();
  for (const r of rows) {
    if (existing.some((s) => s?.name === r.site)) continue;
    const profile = r.profile ?? profiles.get(r.site) ?? defaults.profile;
    if (profile) profiles.set(r.site, profile);
    else if (!profiles.has(r.site)) {
      problems.push(
        `${r.source}: site ${r.site} is new to the stack and has no profile: add a profile column or pass --profile`,
      );
      profiles.set(r.site, "");
    }
  }
  existing.forEach((s, i) => {
    if (rows.some((r) => r.site === s?.name)) {
      doc.deleteIn(["config", "edgefleet:sites", i, "hosts"]);
      doc.deleteIn(["config", "edgefleet:sites", i, "inventory"]);
    }
  });
  const listed = doc.getIn(["config", "edgefleet:inventory"]);
  const files = isSeq(listed) ? (listed.toJSON() as string[]) : [];
  if (!files.includes(inventoryFile))
    doc.setIn(["config", "edgefleet:inventory"], doc.createNode([...files, inventoryFile]));
  const inventoryText = formatInventory(rows, inventoryFile, profiles);
  const text = doc.toString({ lineWidth: 0 });
  if (problems.length > 0) return { text, inventoryText, problems };
  const file = parseStackFile(text);
  try {
    const read = (f: string) => (f === inventoryFile ? inventoryText : readFile(f));
    const spec = validateStack(stackName, file.rawConfig, file.secretKeys, read);
    return { text, inventoryText, spec, problems };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { text, inventoryText, problems: e.problems.map((p) => `${p.path}: ${p.problem}; fix: ${p.fix}`) };
  }
}
