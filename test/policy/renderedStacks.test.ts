/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The real Gatekeeper Rego over what the example stacks really install: every
 * site of every example stack is rendered through the real `Site` component
 * (policies/scripts/renderStack.ts) and `gator test` runs its objects against
 * the site's own templates, Constraints and ExpansionTemplates. The
 * hand-written samples elsewhere prove the rules; this proves the stacks we
 * ship pass them, and that a site's objects are really judged.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  EXAMPLE_STACKS,
  loadStack,
  Manifest,
  RenderedSite,
  renderStack,
  writeSite,
} from "../../policies/scripts/renderStack";
import { run, tool } from "./tools";

// Jest runs this file in a vm realm whose structuredClone (the host's) returns the host realm's arrays, which
// Pulumi's `instanceof Array` then serializes as {"0": ...}: the templates the Gatekeeper component clones would
// reach the mocks mangled. A real program runs in one realm; a JSON round trip clones within this one.
globalThis.structuredClone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

// Rendering 13 sites under the mocks takes tens of seconds on a busy 2-core machine.
jest.setTimeout(240_000);

const SITES: [string, string][] = EXAMPLE_STACKS.flatMap((stack) =>
  loadStack(stack).sites.map((s): [string, string] => [stack, s.name]),
);

interface Verdict {
  constraint: string;
  object: string;
  action: string;
  msg: string;
}

interface GatorRun {
  violations: Verdict[];
  /** Per Constraint kind: how many objects its template reviewed, and the constraintCount gator reported. */
  reviews: Map<string, { count: number; constraintCounts: Set<number>; impliedBy: Set<string> }>;
}

const ref = (o: Manifest) => `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;

function gator(site: RenderedSite, manifests?: Manifest[]): GatorRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-rendered-"));
  try {
    writeSite(dir, site, manifests);
    // --stats is how gator shows what it evaluated: one entry per (object, template) review.
    const r = run(tool("gator"), ["test", "-f", dir, "-o", "json", "--stats"]);
    // gator exits 1 both for violations and for errors (an object it cannot read), so
    // the exit code alone proves nothing: stderr must be empty and stdout the report.
    expect([0, 1]).toContain(r.status);
    expect(r.stderr).toBe("");
    const report = JSON.parse(r.stdout) as { results: any[] | null; stats: any[] | null };
    const reviews: GatorRun["reviews"] = new Map();
    for (const s of report.stats ?? []) {
      if (s.scope !== "template") continue;
      const e = reviews.get(s.statsFor) ?? { count: 0, constraintCounts: new Set(), impliedBy: new Set() };
      e.count++;
      e.constraintCounts.add(s.stats.find((x: any) => x.name === "constraintCount")?.value);
      for (const l of s.labels ?? []) if (l.name === "Implied by") e.impliedBy.add(l.value);
      reviews.set(s.statsFor, e);
    }
    const violations = (report.results ?? []).map((v) => ({
      constraint: v.constraint.kind,
      object: ref(v.violatingObject),
      action: v.enforcementAction,
      msg: v.msg,
    }));
    return { violations, reviews };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Objects a Constraint must review: bare Pods and every kind an ExpansionTemplate turns into one, outside its excluded namespaces. */
function judgedBy(site: RenderedSite, constraint: Manifest): Manifest[] {
  const expanded = new Set(
    site.policies.expansions.flatMap((e) => e.spec.applyTo.flatMap((a: any) => a.kinds as string[])),
  );
  const excluded = new Set<string>(constraint.spec.match.excludedNamespaces ?? []);
  return site.manifests.filter(
    (o) => (o.kind === "Pod" || expanded.has(o.kind)) && !excluded.has(o.metadata?.namespace ?? "default"),
  );
}

const rendered = new Map<string, RenderedSite>();
const site = (stack: string, name: string) => rendered.get(`${stack}/${name}`)!;

beforeAll(async () => {
  for (const stack of EXAMPLE_STACKS) for (const s of await renderStack(stack)) rendered.set(`${stack}/${s.site}`, s);
});

describe("the example stacks, rendered", () => {
  test("every site renders its namespaces and its tracker", () => {
    expect([...rendered.keys()].sort()).toEqual(SITES.map(([st, s]) => `${st}/${s}`).sort());
    for (const s of rendered.values()) {
      const refs = s.manifests.map(ref);
      expect(refs).toEqual(
        expect.arrayContaining([
          "Namespace//edgefleet",
          "Namespace//edgefleet-monitoring",
          "Deployment/edgefleet/tracker",
        ]),
      );
      for (const ns of s.manifests.filter((o) => o.kind === "Namespace" && o.metadata.name.startsWith("edgefleet")))
        expect(ns.metadata.labels["edgefleet.dev/site"]).toBe(s.site);
    }
  });

  test.each(SITES)("%s/%s installs exactly the site's gatekeeperPolicies()", (stack, name) => {
    const s = site(stack, name);
    expect(s.applied.constraints).toEqual(s.policies.constraints);
    expect(s.applied.expansions).toEqual(s.policies.expansions);
    // Templates are applied with a pulumi.com/waitFor annotation; the Rego is what matters.
    const spec = (ts: Manifest[]) => ts.map((t) => [t.metadata.name, t.spec]);
    expect(spec(s.applied.templates)).toEqual(spec(s.policies.templates));
  });
});

describe("gator test on each example site (real Gatekeeper Rego)", () => {
  test.each(SITES)("%s/%s: every Constraint reviews the site's workloads and none is violated", (stack, name) => {
    const s = site(stack, name);
    const g = gator(s);
    expect(g.violations).toEqual([]);
    expect([...g.reviews.keys()].sort()).toEqual(s.policies.constraints.map((c) => c.kind).sort());
    const expansions = new Set(s.policies.expansions.map((e) => e.metadata.name));
    for (const c of s.policies.constraints) {
      const r = g.reviews.get(c.kind)!;
      expect({ kind: c.kind, reviews: r.count, constraintCounts: [...r.constraintCounts] }).toEqual({
        kind: c.kind,
        reviews: judgedBy(s, c).length,
        constraintCounts: [1],
      });
      for (const e of r.impliedBy) expect(expansions).toContain(e);
    }
    // Not vacuous: workloads of the site layer itself were reviewed, through expansion.
    expect(g.reviews.get("EdgefleetTrackerRuntime")?.impliedBy).toContain("edgefleet-expand-apps");
  });
});

describe("a broken tracker on a rendered site is refused (the check is not always green)", () => {
  const [stack, name] = ["factory-iiot", "factory-suzhou"];

  test("each edit of the real tracker Deployment is denied by exactly its Constraint, as a Deployment", () => {
    const s = site(stack, name);
    const tracker = s.manifests.find((o) => ref(o) === "Deployment/edgefleet/tracker")!;
    const params = (kind: string) => s.policies.constraints.find((c) => c.kind === kind)!.spec.parameters;
    const { maxCpuMillis } = params("EdgefleetMaxLimits");
    const edit = (suffix: string, f: (pod: any) => void): Manifest => {
      const copy = structuredClone(tracker);
      copy.metadata.name = `tracker-${suffix}`;
      f(copy.spec.template.spec);
      return copy;
    };
    const broken = [
      edit("latest", (pod) => {
        const image: string = pod.containers[0].image;
        pod.containers[0].image = image.replace(/(@sha256:[0-9a-f]+|:[^:/@]+)$/, "") + ":latest";
      }),
      edit("no-runtime-class", (pod) => delete pod.runtimeClassName),
      // Requests raised with the limit, so only the node-size bound is crossed, not the ratio.
      edit("too-big", (pod) => {
        const cpu = `${maxCpuMillis + 1}m`;
        pod.containers[0].resources.requests.cpu = cpu;
        pod.containers[0].resources.limits.cpu = cpu;
      }),
    ];
    const g = gator(s, [...s.manifests, ...broken]);
    const denied = g.violations.map((v) => `${v.object} ${v.constraint}`).sort();
    expect(denied).toEqual([
      "Deployment/edgefleet/tracker-latest EdgefleetDisallowedTags",
      "Deployment/edgefleet/tracker-no-runtime-class EdgefleetTrackerRuntime",
      "Deployment/edgefleet/tracker-too-big EdgefleetMaxLimits",
    ]);
    for (const v of g.violations) {
      expect(v.action).toBe("deny");
      expect(v.msg).toMatch(/^\[Implied by edgefleet-expand-apps\] /);
    }
  });
});
