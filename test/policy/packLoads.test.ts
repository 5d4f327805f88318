/**
 * The CrossGuard pack compiles as its analyzer compiles it. The pack imports
 * facts from the main tree (config/quantity.ts, config/image.ts,
 * config/k3sVersion.ts, config/k3sDatastore.ts, config/sizeClasses.ts,
 * policies/thresholds.ts), and run-policy-pack type-checks each of them under
 * its own options, without `strict`: code that passes the project's strict
 * tsc can still fail there (a boolean discriminant does not narrow without
 * strictNullChecks), and the preview would stop with "Unable to compile
 * TypeScript". fixtures/load-pack.js repeats run.js's registration; this
 * test also fails when run.js changes it.
 */
import * as fs from "fs";
import * as path from "path";
import { policies } from "../../policies/crossguard/policies";
import { REPO, run } from "./tools";

describe("the CrossGuard pack as its analyzer loads it", () => {
  test("run-policy-pack still registers ts-node the way load-pack.js does", () => {
    const runJs = fs.readFileSync(
      path.join(REPO, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack", "run.js"),
      "utf8",
    );
    for (const option of ["typeCheck: true", 'target: "ES2020"', 'module: useNodeNext ? "nodenext"']) {
      expect({ option, present: runJs.includes(option) }).toEqual({ option, present: true });
    }
    expect(fs.existsSync(path.join(REPO, "policies", "crossguard", "tsconfig.json"))).toBe(false);
  });

  test("compiles every module it imports and registers every policy", () => {
    const r = run("node", [path.join(__dirname, "fixtures", "load-pack.js"), REPO]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(Number(r.stdout.trim())).toBe(policies.length);
  }, 120_000);
});
