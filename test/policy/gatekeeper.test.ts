/**
 * The Gatekeeper library: layout, generated files up to date (template.yaml
 * embeds src.rego verbatim; sample Constraints carry thresholds.ts's numbers),
 * and every suite green under the real `gator verify`, expansion included.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, parseAllDocuments } from "yaml";
import { GATEKEEPER_POLICIES, SiteConstraintOptions, renderConstraints } from "../../policies/gatekeeper/catalog";
import { GATEKEEPER_DIR, generatedFiles, readRego, renderBundle } from "../../policies/gatekeeper/files";
import { THRESHOLDS } from "../../policies/thresholds";
import { run, tool } from "./tools";

describe("Gatekeeper library layout and generated files", () => {
  test.each(GATEKEEPER_POLICIES.map((p) => [p.dir, p]))("%s has the gatekeeper-library layout", (dir, p) => {
    const d = path.join(GATEKEEPER_DIR, dir as string);
    for (const f of ["template.yaml", "src.rego", "src_test.rego", "suite.yaml"]) {
      expect(fs.existsSync(path.join(d, f))).toBe(true);
    }
    const samples = fs.readdirSync(path.join(d, "samples"));
    expect(samples.sort()).toEqual(Object.keys((p as (typeof GATEKEEPER_POLICIES)[number]).samples).sort());
    for (const s of samples) {
      for (const f of ["constraint.yaml", "example_allowed.yaml", "example_disallowed.yaml"]) {
        expect(fs.existsSync(path.join(d, "samples", s, f))).toBe(true);
      }
    }
  });

  test("every template.yaml embeds its src.rego verbatim", () => {
    for (const p of GATEKEEPER_POLICIES) {
      const t = parse(fs.readFileSync(path.join(GATEKEEPER_DIR, p.dir, "template.yaml"), "utf8"));
      expect(t.spec.crd.spec.names.kind).toBe(p.kind);
      expect(t.metadata.name).toBe(p.kind.toLowerCase());
      const code = t.spec.targets[0].code[0];
      expect(code.engine).toBe("Rego");
      expect(code.source.version).toBe("v1");
      expect(code.source.rego).toBe(readRego(p.dir));
    }
  });

  test("generated files are up to date (run policies/gatekeeper/generate.ts after a change)", () => {
    const stale: string[] = [];
    for (const [rel, content] of generatedFiles()) {
      const file = path.join(GATEKEEPER_DIR, rel);
      if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== content) stale.push(rel);
    }
    expect(stale).toEqual([]);
  });

  test("Constraint parameters carry thresholds.ts's numbers", () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const byKind = Object.fromEntries(renderConstraints({ sizeClass: "4c8g" }).map((c: any) => [c.kind, c.spec]));
    expect(byKind.EdgefleetMaxLimits.parameters).toEqual({
      sizeClass: "4c8g",
      maxCpuMillis: THRESHOLDS.maxLimitsBySizeClass["4c8g"].cpuMillis,
      maxMemoryMiB: THRESHOLDS.maxLimitsBySizeClass["4c8g"].memoryMiB,
    });
    expect(byKind.EdgefleetMaxLimits.parameters).toEqual({ sizeClass: "4c8g", maxCpuMillis: 3400, maxMemoryMiB: 6612 });
    expect(byKind.EdgefleetLimitRatio.parameters.maxRatio).toEqual(THRESHOLDS.maxLimitRequestRatio);
    expect(byKind.EdgefleetAllowedRepos.parameters.registries).toEqual(THRESHOLDS.allowedRegistries);
    expect(byKind.EdgefleetHostFilesystem.parameters.allowedHostPaths).toEqual([
      { pathPrefix: "/var/lib/industrial-iot", readOnly: false },
    ]);
    expect(byKind.EdgefleetTrackerRuntime.parameters.runtimeClassName).toBe("wasmedge");
    expect(byKind.EdgefleetTrackerRuntime.parameters.nodeSelector).toEqual({ "node-type": "edge" });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    for (const spec of Object.values<any>(byKind)) {
      expect(spec.match.kinds).toEqual([{ apiGroups: [""], kinds: ["Pod"] }]);
      expect(spec.match.excludedNamespaces).toEqual(THRESHOLDS.excludedNamespaces);
    }
  });

  test("host-filesystem entries: the site's own after the thresholds', plain strings as writable entries", () => {
    const hostFs = GATEKEEPER_POLICIES.find((p) => p.dir === "host-filesystem")!;
    const params = (extraHostPaths: SiteConstraintOptions["extraHostPaths"]) =>
      hostFs.parameters(THRESHOLDS, { sizeClass: "2c4g", extraHostPaths }).allowedHostPaths;
    expect(params([{ pathPrefix: "/var/log", readOnly: true }, "/srv/data"])).toEqual([
      ...THRESHOLDS.allowedHostPaths,
      { pathPrefix: "/var/log", readOnly: true },
      { pathPrefix: "/srv/data", readOnly: false },
    ]);
  });

  test("the site bundle holds the expansion templates, every template and every Constraint", () => {
    const docs = parseAllDocuments(renderBundle({ sizeClass: "2c4g" })).map((d) => d.toJS());
    const kinds = docs.map((d) => d.kind);
    expect(kinds.filter((k) => k === "ExpansionTemplate")).toHaveLength(3);
    expect(kinds.filter((k) => k === "ConstraintTemplate")).toHaveLength(GATEKEEPER_POLICIES.length);
    expect(kinds.filter((k) => k.startsWith("Edgefleet")).sort()).toEqual(
      GATEKEEPER_POLICIES.map((p) => p.kind).sort(),
    );
  });
});

describe("gator verify (real gator)", () => {
  const gator = tool("gator");

  test.each(GATEKEEPER_POLICIES.map((p) => p.dir))("%s suite is green", (dir) => {
    const r = run(gator, ["verify", path.join(GATEKEEPER_DIR, dir)]);
    expect(r.stdout + r.stderr).toMatch(/ok/);
    expect(r.stdout + r.stderr).not.toMatch(/FAIL/);
    expect(r.status).toBe(0);
  });

  test("a wrong expectation turns gator verify red (the suites are not always green)", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-gator-"));
    try {
      fs.cpSync(GATEKEEPER_DIR, tmp, { recursive: true });
      const suite = path.join(tmp, "disallowed-tags", "suite.yaml");
      // Claim the factory case's `:latest` image is fine.
      fs.writeFileSync(
        suite,
        fs.readFileSync(suite, "utf8").replace(/violations: 1\n\s+message: "disallowed tag"/, "violations: no"),
      );
      const r = run(gator, ["verify", path.join(tmp, "disallowed-tags")]);
      expect(r.status).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/FAIL/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
