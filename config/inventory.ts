/**
 * Host inventories: CSV or YAML files of hosts, read two ways with one parser:
 * by the program, when a stack names them (edgefleet:inventory, or a site's
 * `inventory`), so a region's hosts live in the repository next to its stack
 * file instead of in the engine's config (which tops out near 600 hosts,
 * pulumi/pulumi#8680); and by scripts/inventory/import.ts, which brings an
 * outside export into a stack. Pure: text in, rows and problems out.
 *
 * CSV columns (header row required, any order; site, name, address and
 * hostKey are required unless a default is given):
 *   site, profile, name, address, port, user, role, size, labels, taints, hostKey
 *   size:   2c4g | 4c8g | <cpu>/<memory>   e.g. 8/16Gi
 *   labels: key=value;key=value
 *   taints: key[=value]:Effect;...
 * YAML/JSON: a list of host mappings with the same fields (labels a mapping,
 * taints a list), or a mapping with such a list under `hosts`. A YAML row's
 * source is its file and line, like a CSV row's.
 */
import { isMap, isSeq, parseDocument } from "yaml";
import { NAMESPACE } from "./schema";
import { ConfigError, type ConfigProblem, validate } from "./validate";
import type { StackSpec } from "./schema";

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
    const ydoc = parseDocument(text, { prettyErrors: false });
    if (ydoc.errors.length > 0) {
      const e = ydoc.errors[0];
      const at = e.linePos?.[0] ? `:${e.linePos[0].line}:${e.linePos[0].col}` : "";
      return { rows, problems: [{ source: `${name}${at}`, problem: `not valid YAML: ${e.message.split("\n")[0]}` }] };
    }
    const doc: unknown = ydoc.toJS();
    const seqNode = isSeq(ydoc.contents)
      ? ydoc.contents
      : isMap(ydoc.contents)
        ? ydoc.contents.get("hosts", true)
        : undefined;
    const lineOf = (i: number): string => {
      const item = isSeq(seqNode) ? (seqNode.items[i] as { range?: [number, number, number] }) : undefined;
      if (!item?.range) return `${name} hosts[${i}]`;
      return `${name}:${text.slice(0, item.range[0]).split("\n").length}`;
    };
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
          source: lineOf(i),
          problem: "not a mapping",
        });
        return;
      }
      const row = rowFromFields(h as Record<string, unknown>, lineOf(i), defaults, problems);
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

const INVENTORY_KEY = `${NAMESPACE}:inventory`;
const SITES_KEY = `${NAMESPACE}:sites`;
const INVENTORY_FIX =
  "name a CSV or YAML file in the repository, relative to the project folder (Pulumi.yaml's), e.g. inventories/<region>.csv; scripts/inventory/import.ts --inventory writes one.";

/** The stack's config with its inventory files' hosts in place, and where each host came from. */
export interface InventoryExpansion {
  /** The engine's config with hosts filled in and the inventory keys gone, as validate() reads it. */
  config: Record<string, unknown>;
  /** edgefleet:sites[i].hosts[j] -> "inventories/x.csv:12", for hosts read from a file. */
  sources: Map<string, string>;
  problems: ConfigProblem[];
}

function fileProblem(path: string, file: unknown, readFile: (f: string) => string): string | ConfigProblem {
  if (typeof file !== "string" || file.trim() === "") {
    return { path, problem: `expected a file name, found ${JSON.stringify(file)}`, fix: INVENTORY_FIX };
  }
  // Another checkout, another machine: only a path inside the repository names the same file there.
  if (file.startsWith("/") || file.split(/[\\/]/).includes("..")) {
    return { path, problem: `${file} is outside the project folder`, fix: INVENTORY_FIX };
  }
  if (!/\.(csv|ya?ml|json)$/i.test(file)) {
    return { path, problem: `${file} is neither .csv nor .yaml/.yml/.json`, fix: INVENTORY_FIX };
  }
  try {
    return readFile(file);
  } catch (e) {
    return { path, problem: `cannot read ${file}: ${(e as Error).message.split("\n")[0]}`, fix: INVENTORY_FIX };
  }
}

/**
 * Reads the inventory files a stack names into its sites' hosts:
 * - `edgefleet:inventory`: a list of files for the whole region; every row
 *   names its site, and a site the stack does not list yet needs a profile
 *   column (it is added with the stack's defaults);
 * - `edgefleet:sites[i].inventory`: one file for that site; its rows may omit
 *   the site.
 * A site's hosts come from inline `hosts` or from files, not both. Every
 * problem names its key or its file and line.
 */
export function expandInventories(
  config: Record<string, unknown>,
  readFile: (file: string) => string,
): InventoryExpansion {
  const sources = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  // The engine hands structured values over as JSON text; tests and tools pass objects.
  const decoded = (v: unknown): unknown => {
    if (typeof v !== "string") return v;
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  };
  const region = decoded(config[INVENTORY_KEY]);
  const rawSites = decoded(config[SITES_KEY] ?? []);
  // Not a list: validate() says what is wrong with it.
  if (!Array.isArray(rawSites)) return { config, sources, problems };
  const sites = rawSites.map((s: unknown) =>
    s !== null && typeof s === "object" ? { ...(s as Record<string, unknown>) } : (s as Record<string, unknown>),
  );
  if (region === undefined && !sites.some((s) => s?.inventory !== undefined)) return { config, sources, problems };
  const out = { ...config };
  delete out[INVENTORY_KEY];

  const rowsBySite = new Map<string, InventoryRow[]>();
  const add = (rows: InventoryRow[]) => {
    for (const r of rows) rowsBySite.set(r.site, [...(rowsBySite.get(r.site) ?? []), r]);
  };
  const rowProblems = (ps: RowProblem[], key: string) =>
    ps.forEach((p) =>
      problems.push({ path: `${key} (${p.source})`, problem: p.problem, fix: "correct that row of the file." }),
    );

  if (region !== undefined) {
    const files = typeof region === "string" ? [region] : region;
    if (!Array.isArray(files)) {
      problems.push({ path: INVENTORY_KEY, problem: "expected a list of file names", fix: INVENTORY_FIX });
    } else {
      files.forEach((f, i) => {
        const key = `${INVENTORY_KEY}[${i}]`;
        const text = fileProblem(key, f, readFile);
        if (typeof text !== "string") return void problems.push(text);
        const parsed = parseInventory(text, f as string);
        rowProblems(parsed.problems, key);
        add(parsed.rows);
      });
    }
  }

  sites.forEach((site, i) => {
    if (site === null || typeof site !== "object" || site.inventory === undefined) return;
    const key = `${SITES_KEY}[${i}].inventory`;
    const file = site.inventory;
    delete site.inventory;
    const text = fileProblem(key, file, readFile);
    if (typeof text !== "string") return void problems.push(text);
    const name = typeof site.name === "string" ? site.name : undefined;
    const parsed = parseInventory(text, file as string, { site: name });
    rowProblems(parsed.problems, key);
    for (const r of parsed.rows) {
      if (r.site !== name) {
        problems.push({
          path: `${key} (${r.source})`,
          problem: `the row is for site ${r.site}, but this file is site ${name}'s`,
          fix: `move the row to site ${r.site}'s inventory, or list the file under ${INVENTORY_KEY}.`,
        });
      }
    }
    add(parsed.rows.filter((r) => r.site === name));
  });

  for (const [siteName, rows] of rowsBySite) {
    let idx = sites.findIndex((s) => s?.name === siteName);
    if (idx < 0) {
      const profile = rows.find((r) => r.profile)?.profile;
      if (!profile) {
        problems.push({
          path: `${INVENTORY_KEY} (${rows[0].source})`,
          problem: `site ${siteName} is not in ${SITES_KEY} and its rows name no profile`,
          fix: `add a profile column for its rows, or list the site under ${SITES_KEY} with its profile.`,
        });
        continue;
      }
      sites.push({ name: siteName, profile });
      idx = sites.length - 1;
    }
    const site = sites[idx];
    if (site.hosts !== undefined) {
      problems.push({
        path: `${SITES_KEY}[${idx}].hosts`,
        problem: `site ${siteName} lists hosts inline and in ${rows[0].source.replace(/:\d+$/, "")}`,
        fix: "keep one list: remove the inline hosts, or the site's rows from the file.",
      });
      continue;
    }
    site.hosts = rows.map((r) => r.host);
    rows.forEach((r, j) => sources.set(`${SITES_KEY}[${idx}].hosts[${j}]`, r.source));
  }
  out[SITES_KEY] = sites;
  return { config: out, sources, problems };
}

/**
 * validate(), for a stack that may keep its hosts in inventory files: the
 * files are read and checked first; a problem in a host from a file names the
 * file and line beside its key path.
 */
export function validateStack(
  stackName: string,
  config: Record<string, unknown>,
  secretKeys: ReadonlySet<string>,
  readFile: (file: string) => string,
): StackSpec {
  const x = expandInventories(config, readFile);
  if (x.problems.length > 0) throw new ConfigError(stackName, x.problems);
  try {
    return validate(stackName, x.config, secretKeys);
  } catch (e) {
    if (!(e instanceof ConfigError) || x.sources.size === 0) throw e;
    throw new ConfigError(
      stackName,
      e.problems.map((p) => {
        const m = /^edgefleet:sites\[\d+\]\.hosts\[\d+\]/.exec(p.path);
        const src = m ? x.sources.get(m[0]) : undefined;
        return src ? { ...p, path: `${src}: ${p.path}` } : p;
      }),
    );
  }
}
