/**
 * The policy engines the tests run: real `opa` and `gator` binaries, built by
 * tools/bootstrap.sh from tools/go/kube. Looked up in
 * $EDGEFLEET_TOOLS_BIN first, then on PATH; a missing binary fails the test
 * (a policy nobody executes proves nothing).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export const REPO = path.resolve(__dirname, "..", "..");
export const POLICIES = path.join(REPO, "policies");

export function tool(name: "opa" | "gator"): string {
  const dirs = [
    ...(process.env.EDGEFLEET_TOOLS_BIN ? [process.env.EDGEFLEET_TOOLS_BIN] : []),
    ...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean),
  ];
  for (const d of dirs) {
    const candidate = path.join(d, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error(
    `${name} not found in EDGEFLEET_TOOLS_BIN (${process.env.EDGEFLEET_TOOLS_BIN ?? "unset"}) or PATH: ` +
      `build it with tools/bootstrap.sh (tools/go/kube) and set EDGEFLEET_TOOLS_BIN to its bin directory`,
  );
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], cwd = REPO): RunResult {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Every .rego file under policies/ (relative to the repo), sorted. */
export function regoFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".rego")) out.push(path.relative(REPO, p));
    }
  };
  walk(POLICIES);
  return out.sort();
}
