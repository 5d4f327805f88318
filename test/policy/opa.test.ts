import { POLICIES, regoFiles, run, tool } from "./tools";
import * as path from "path";

const MIN_COVERAGE = 90;

describe("Rego under policies/ (real opa)", () => {
  const opa = tool("opa");
  // Files, not directories: a directory would also load the samples' YAML as data.
  const files = regoFiles();

  test("there are policies and tests for each", () => {
    const src = files.filter((f) => f.endsWith("/src.rego"));
    expect(src.length).toBeGreaterThanOrEqual(10);
    for (const f of src) expect(files).toContain(f.replace(/src\.rego$/, "src_test.rego"));
  });

  test("every file parses as Rego v1 and is opa-fmt clean", () => {
    const check = run(opa, ["check", "--v1-compatible", ...files]);
    expect(check.stderr + check.stdout).toBe("");
    expect(check.status).toBe(0);
    const fmt = run(opa, ["fmt", "--list", ...files]);
    expect(fmt.stdout).toBe("");
  });

  test(`opa test passes with at least ${MIN_COVERAGE}% coverage, per policy and overall`, () => {
    const r = run(opa, ["test", "--coverage", "--format", "json", ...files]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { coverage: number; files: Record<string, { coverage?: number }> };
    expect(report.coverage).toBeGreaterThanOrEqual(MIN_COVERAGE);
    const perSource = Object.entries(report.files).filter(([f]) => f.endsWith("src.rego"));
    expect(perSource.length).toBe(files.filter((f) => f.endsWith("/src.rego")).length);
    const below = perSource.filter(([, c]) => (c.coverage ?? 0) < MIN_COVERAGE).map(([f, c]) => `${f}: ${c.coverage}`);
    expect(below).toEqual([]);
  });

  test("a failing Rego test makes opa test fail (the run is not always green)", () => {
    const r = run(opa, [
      "test",
      path.join(POLICIES, "gatekeeper/disallowed-tags/src.rego"),
      path.join(__dirname, "fixtures/failing_test.rego"),
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain("test_latest_is_allowed");
  });
});
