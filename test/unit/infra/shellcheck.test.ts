/**
 * shellcheck on every shell file we ship or test with, plus the rendered
 * supervisor. Fails (never skips) when shellcheck is missing: install it with
 * `apt-get install -y shellcheck`.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderSupervisor } from "../../../infra/render/service";

const repo = path.join(__dirname, "../../..");

function shellFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...shellFiles(p));
    else if (e.name.endsWith(".sh") || fs.readFileSync(p, "utf8").startsWith("#!/usr/bin/env bash")) out.push(p);
  }
  return out;
}

// The host-step wrapper, host scripts and their tests, and the scripts that set up and run the
// project (toolchain, lab, inventory, benchmarks, CI).
const files = [
  ...["lib", "infra/scripts", "test/shell", "test/toolchain", "test/lab", "lab", "scripts", "bench"].flatMap((d) =>
    shellFiles(path.join(repo, d)).filter((f) => !f.includes(`${path.sep}results${path.sep}`)),
  ),
  ...fs
    .readdirSync(path.join(repo, "tools"))
    .filter((f) => f.endsWith(".sh"))
    .map((f) => path.join(repo, "tools", f)),
  ...fs.readdirSync(path.join(repo, "tools/go")).map((t) => path.join(repo, "tools/go", t, "build.sh")),
  path.join(repo, ".ci/run"),
].sort();

describe("shellcheck", () => {
  it("is installed", () => {
    const r = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
    if (r.error || r.status !== 0) {
      throw new Error(
        "shellcheck is not installed; run `apt-get install -y shellcheck` (the host scripts must be checked)",
      );
    }
  });

  it("covers every host script", () => {
    for (const s of [
      "preflight.sh",
      "install.sh",
      "configure.sh",
      "service.sh",
      "wait-ready.sh",
      "drain.sh",
      "uninstall.sh",
      "ca-hash.sh",
      "save-bootstrap.sh",
    ]) {
      expect(files).toContain(path.join(repo, "infra/scripts", s));
    }
    // The host side of every step (lib/hostStep.sh), sent with each of them.
    expect(files).toContain(path.join(repo, "lib/hostStep.sh"));
  });

  it.each(files.map((f) => [path.relative(repo, f)]))("%s is clean", (rel) => {
    try {
      execFileSync("shellcheck", ["-x", "--shell=bash", "--severity=style", rel], { cwd: repo, encoding: "utf8" });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`shellcheck ${rel}:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
    }
  });

  it("passes the rendered supervisor for both roles", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-sc-"));
    try {
      for (const role of ["server", "agent"] as const) {
        const f = path.join(dir, `${role}-supervise`);
        fs.writeFileSync(f, renderSupervisor({ role }));
        execFileSync("shellcheck", ["--shell=bash", "--severity=style", f], { encoding: "utf8" });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
