/**
 * A region `up`'s outcome per site, from the engine's JSON events (`pulumi up
 * --json`, one event per line; scripts/region-up.sh). Pure: events in, lines
 * out, so what an operator is told is unit-tested without an engine.
 *
 * Which site a resource is: its top-level ancestor (the resource under the
 * stack it descends from) is named after the site (program.ts: the cluster
 * and the site layer are `<site>`, the simulated nodes `<site>-edge`); the
 * sites are the names of the site-layer components (SITE_TYPE). Which host
 * failed: host steps name `site <s> host <h> (<user@address:port>)` in their
 * errors (lib/hostCommandRun.ts).
 */

/** The site layer's component type (components/site.ts): one per site. */
export const SITE_TYPE = "edgefleet:components:Site";

/** The parts of an engine event this reads (@pulumi/pulumi/automation EngineEvent). */
export interface SummaryEvent {
  resourcePreEvent?: { metadata: StepMeta };
  resOutputsEvent?: { metadata: StepMeta };
  resOpFailedEvent?: { metadata: StepMeta };
  diagnosticEvent?: { urn?: string; message: string; severity: string };
  summaryEvent?: { resourceChanges?: Record<string, number> };
}

interface StepMeta {
  op: string;
  urn: string;
  type: string;
  new?: { parent?: string; custom?: boolean } | null;
  old?: { parent?: string; custom?: boolean } | null;
}

export interface SiteFailure {
  /** Resource name of the failed step or object. */
  resource: string;
  /** The host the error names, "<name> (<user@address:port>)", if it is a host step's. */
  host?: string;
  /** The error's first line. */
  message: string;
}

export interface SiteOutcome {
  site: string;
  /** Resources whose operation completed in this run, by operation (create, update, same, ...). */
  done: Record<string, number>;
  failed: SiteFailure[];
  /** Resource operations that started and neither completed nor failed: the run was cut off. */
  unfinished: string[];
}

export interface RegionSummary {
  sites: SiteOutcome[];
  /** Errors not attributed to one site (the program's own, a default provider's). */
  other: string[];
  /** The engine reported its summary: the run ended rather than being cut off. */
  finished: boolean;
}

const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
const typeOf = (urn: string) => {
  const parts = urn.split("::");
  const t = parts[parts.length - 2] ?? "";
  return t.slice(t.lastIndexOf("$") + 1);
};
const HOST_IN_ERROR = /\bsite (\S+) host (\S+ \([^)]*\))/;
const firstLine = (s: string) => s.trim().split("\n")[0].trim();
/** The program's error: its first line that says more than that the program failed. */
const programError = (m: string) => {
  const lines = m
    .trim()
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => !/^Running program .* failed with an unhandled exception:?$/.test(l)) ?? lines[0] ?? "";
};

export function summarize(events: SummaryEvent[]): RegionSummary {
  const parent = new Map<string, string>();
  const started = new Map<string, string>();
  const custom = new Set<string>();
  const done = new Map<string, string>();
  const failed = new Set<string>();
  const errors = new Map<string, string[]>();
  const stackErrors: string[] = [];
  const siteNames = new Set<string>();
  let finished = false;

  for (const e of events) {
    const pre = e.resourcePreEvent?.metadata;
    if (pre) {
      const p = pre.new?.parent || pre.old?.parent;
      if (p) parent.set(pre.urn, p);
      started.set(pre.urn, pre.op);
      if (pre.new?.custom ?? pre.old?.custom) custom.add(pre.urn);
      if (pre.type === SITE_TYPE) siteNames.add(nameOf(pre.urn));
    }
    const out = e.resOutputsEvent?.metadata;
    if (out) done.set(out.urn, out.op);
    const bad = e.resOpFailedEvent?.metadata;
    if (bad) failed.add(bad.urn);
    const d = e.diagnosticEvent;
    if (d && d.severity === "error") {
      if (!d.urn || typeOf(d.urn) === "pulumi:pulumi:Stack") stackErrors.push(d.message);
      else errors.set(d.urn, [...(errors.get(d.urn) ?? []), d.message]);
      const named = HOST_IN_ERROR.exec(d.message);
      if (named) siteNames.add(named[1]);
    }
    if (e.summaryEvent) finished = true;
  }

  // Longest name first: site "hub-a-2" is not site "hub-a".
  const sites = [...siteNames].sort((a, b) => b.length - a.length || a.localeCompare(b));
  const top = (urn: string) => {
    let u = urn;
    for (let i = 0; i < 100; i++) {
      const p = parent.get(u);
      if (!p || typeOf(p) === "pulumi:pulumi:Stack") return u;
      u = p;
    }
    return u;
  };
  const siteOf = (urn: string): string | undefined => {
    const n = nameOf(top(urn));
    return sites.find((s) => n === s || n.startsWith(`${s}-`));
  };

  const outcomes = new Map<string, SiteOutcome>(
    [...sites].sort().map((s) => [s, { site: s, done: {}, failed: [], unfinished: [] }]),
  );
  // With --continue-on-error the program's outputs that wait on a failed
  // resource fail too, and the program reports that naming the resource
  // ("resource <name> [urn] ..."): the same failure, told once per site below.
  const failedNames = [...started.keys()].filter((u) => failed.has(u) || errors.has(u)).map(nameOf);
  const echoes = (m: string) => failedNames.some((n) => m.includes(`resource ${n} [`));
  const other = stackErrors.filter((m) => !echoes(m)).map(programError);
  for (const [urn, op] of started) {
    const message = (errors.get(urn) ?? []).map(firstLine).find((m) => m !== "") ?? "";
    const site = siteOf(urn) ?? HOST_IN_ERROR.exec(message)?.[1];
    const o = site === undefined ? undefined : outcomes.get(site);
    if (failed.has(urn) || errors.has(urn)) {
      if (!o) {
        other.push(`${nameOf(urn)}: ${message || "failed"}`);
        continue;
      }
      o.failed.push({ resource: nameOf(urn), host: HOST_IN_ERROR.exec(message)?.[2], message: message || "failed" });
    } else if (done.has(urn)) {
      if (o) o.done[op] = (o.done[op] ?? 0) + 1;
    } else if (o && custom.has(urn)) {
      // A component reports no outputs of its own; a resource always does, unless the run was cut off.
      o.unfinished.push(nameOf(urn));
    }
  }
  return { sites: [...outcomes.values()], other, finished };
}

const DONE: Record<string, string> = {
  create: "created",
  update: "updated",
  same: "unchanged",
  delete: "deleted",
  replace: "replaced",
};

/** A site converged: nothing of it failed and nothing was left under way. */
export const converged = (o: SiteOutcome) => o.failed.length === 0 && o.unfinished.length === 0;

export function renderSummary(stack: string, r: RegionSummary): string[] {
  const bad = r.sites.filter((o) => !converged(o));
  const lines = [
    `region summary, stack ${stack}: ${r.sites.length - bad.length} of ${r.sites.length} sites converged` +
      (bad.length ? `; failed: ${bad.map((o) => o.site).join(", ")}` : ""),
  ];
  for (const o of r.sites) {
    const counts = Object.entries(o.done)
      .sort()
      .map(([op, n]) => `${n} ${DONE[op] ?? op}`)
      .join(", ");
    if (converged(o)) {
      lines.push(`  site ${o.site}: converged (${counts || "nothing to do"})`);
      continue;
    }
    lines.push(`  site ${o.site}: FAILED${counts ? ` (${counts} before it stopped)` : ""}`);
    for (const f of o.failed) {
      lines.push(`    ${f.host ? `host ${f.host}, ` : ""}step ${f.resource}: ${f.message}`);
    }
    if (o.unfinished.length) lines.push(`    did not finish: ${o.unfinished.join(", ")}`);
    lines.push("    what waits on it was not started; the other sites were not held back");
  }
  for (const m of r.other) lines.push(`  region: ${m}`);
  if (!r.finished) lines.push("  the engine did not report the end of the run: it was cut off (README: Recovery)");
  if (bad.length)
    lines.push(
      "fix the cause (the message says what), then run the same command again: it resumes where each site stopped",
    );
  return lines;
}
