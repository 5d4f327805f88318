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
import { isSeq, parse, parseDocument } from "yaml";
import { checkConfigSize } from "../../config/configSize";
import { parseStackFile } from "../../config/stackFile";
import { ConfigError, type ConfigProblem, validate } from "../../config/validate";
import type { StackSpec } from "../../config/schema";

export interface ImportDefaults {
  /** Site for rows without one. */
  site?: string;
  /** Profile for sites the stack does not have yet (rows may carry their own). */
  profile?: string;
  /** Size for rows without one. */
  size?: string;
  /** Rows without a role: the first N of each site become servers, the rest agents. */
  servers?: number;
}

export interface InventoryRow {
  /** Where the row came from, for messages ("hosts.csv:12"). */
  source: string;
  site: string;
  profile?: string;
  host: Record<string, unknown>;
}

export interface RowProblem {
  source: string;
  problem: string;
}

const COLUMNS = ["site", "profile", "name", "address", "port", "user", "role", "size", "labels", "taints", "hostKey"];

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ""));
}

function parseSize(s: string): unknown {
  const m = /^([^/]+)\/([^/]+)$/.exec(s);
  if (!m) return s;
  const cpu = /^\d+(\.\d+)?$/.test(m[1]) ? Number(m[1]) : m[1];
  return { cpu, memory: m[2] };
}

function parsePairs(s: string, source: string, problems: RowProblem[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s
    .split(";")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) {
      problems.push({
        source,
        problem: `labels: ${JSON.stringify(part)} is not key=value`,
      });
      continue;
    }
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function rowFromFields(
  fields: Record<string, unknown>,
  source: string,
  defaults: ImportDefaults,
  problems: RowProblem[],
): InventoryRow | undefined {
  const str = (k: string): string | undefined => {
    const v = fields[k];
    if (v === undefined || v === null) return undefined;
    const s = String(v).trim();
    return s === "" ? undefined : s;
  };
  const site = str("site") ?? defaults.site;
  if (!site) {
    problems.push({
      source,
      problem: "no site: add a site column or pass --site",
    });
    return undefined;
  }
  const host: Record<string, unknown> = {};
  for (const k of ["name", "address", "user", "role", "hostKey"]) {
    const v = str(k);
    if (v !== undefined) host[k] = v;
  }
  const port = fields.port;
  if (typeof port === "number") host.port = port;
  else if (str("port") !== undefined) {
    const p = Number(str("port"));
    host.port = Number.isInteger(p) ? p : str("port");
  }
  const size = fields.size;
  if (size !== null && typeof size === "object") host.size = size;
  else if (str("size") ?? defaults.size) host.size = parseSize((str("size") ?? defaults.size)!);
  const labels = fields.labels;
  if (labels !== null && typeof labels === "object" && !Array.isArray(labels)) host.labels = labels;
  else if (str("labels")) host.labels = parsePairs(str("labels")!, source, problems);
  const taints = fields.taints;
  if (Array.isArray(taints)) host.taints = taints;
  else if (str("taints"))
    host.taints = str("taints")!
      .split(";")
      .map((t) => t.trim())
      .filter(Boolean);
  const row: InventoryRow = { source, site, host };
  const profile = str("profile");
  if (profile) row.profile = profile;
  return row;
}

/** Rows from CSV, YAML or JSON text. `name` is the input's file name, for messages. */
export function parseInventory(
  text: string,
  name: string,
  defaults: ImportDefaults = {},
): { rows: InventoryRow[]; problems: RowProblem[] } {
  const problems: RowProblem[] = [];
  const rows: InventoryRow[] = [];
  if (/\.csv$/i.test(name)) {
    const [header, ...data] = parseCsv(text);
    if (!header) return { rows, problems: [{ source: name, problem: "empty CSV" }] };
    const cols = header.map((h) => h.trim());
    const unknown = cols.filter((c) => !COLUMNS.includes(c));
    if (unknown.length > 0)
      problems.push({
        source: `${name}:1`,
        problem: `unknown column(s) ${unknown.join(", ")}; known: ${COLUMNS.join(", ")}`,
      });
    data.forEach((fields, i) => {
      const rec = Object.fromEntries(cols.map((c, j) => [c, fields[j]]));
      const row = rowFromFields(rec, `${name}:${i + 2}`, defaults, problems);
      if (row) rows.push(row);
    });
  } else {
    const doc: unknown = parse(text);
    const list = Array.isArray(doc)
      ? doc
      : doc !== null && typeof doc === "object"
        ? (doc as { hosts?: unknown }).hosts
        : undefined;
    if (!Array.isArray(list))
      return {
        rows,
        problems: [
          {
            source: name,
            problem: "expected a list of hosts, or a mapping with a `hosts` list",
          },
        ],
      };
    list.forEach((h: unknown, i) => {
      if (h === null || typeof h !== "object") {
        problems.push({
          source: `${name} hosts[${i}]`,
          problem: "not a mapping",
        });
        return;
      }
      const row = rowFromFields(h as Record<string, unknown>, `${name} hosts[${i}]`, defaults, problems);
      if (row) rows.push(row);
    });
  }
  // Roles for rows that have none.
  const seen = new Map<string, number>();
  for (const r of rows) {
    const n = seen.get(r.site) ?? 0;
    seen.set(r.site, n + 1);
    if (r.host.role === undefined) {
      if (defaults.servers === undefined)
        problems.push({
          source: r.source,
          problem: "no role: add a role column (server|agent) or pass --servers N",
        });
      else r.host.role = n < defaults.servers ? "server" : "agent";
    }
  }
  return { rows, problems };
}

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
