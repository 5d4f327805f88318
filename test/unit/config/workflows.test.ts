/**
 * The GitHub workflows pass actionlint (built from tools/go/actionlint), and
 * do what issue 7 asks of them. actionlint is found in EDGEFLEET_TOOLS_BIN
 * (tools/bootstrap.sh --env) or on PATH; a missing linter fails the test
 * rather than skipping it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { parse } from "yaml";

const REPO = join(__dirname, "../../..");
const WORKFLOWS = join(REPO, ".github/workflows");

function findTool(name: string): string {
  const dirs = [process.env.EDGEFLEET_TOOLS_BIN, ...(process.env.PATH ?? "").split(delimiter)].filter(
    (d): d is string => !!d,
  );
  for (const d of dirs) {
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  throw new Error(
    `${name} not found in EDGEFLEET_TOOLS_BIN or PATH; build the toolchain: eval "$(tools/bootstrap.sh --env)"`,
  );
}

interface LintError {
  message: string;
  filepath: string;
  line: number;
  kind: string;
}

function actionlint(cwd: string, files: string[]): LintError[] {
  const bin = findTool("actionlint");
  const args = ["-no-color", "-format", "{{json .}}"];
  // actionlint runs shellcheck on `run:` scripts when it can find it.
  try {
    args.push("-shellcheck", findTool("shellcheck"));
  } catch {
    /* shellcheck is checked by its own test below */
  }
  const r = spawnSync(bin, [...args, ...files], { cwd, encoding: "utf8" });
  if (r.status !== 0 && r.status !== 1) throw new Error(`actionlint failed to run (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout || "[]") as LintError[];
}

const load = (f: string) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  parse(readFileSync(join(WORKFLOWS, f), "utf8")) as Record<string, any>;

describe("workflows", () => {
  it("actionlint v1.7.12 finds no problem in .github/workflows", () => {
    const version = execFileSync(findTool("actionlint"), ["-version"], {
      encoding: "utf8",
    });
    expect(version.split("\n")[0]).toBe("v1.7.12");
    const files = readdirSync(WORKFLOWS)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => join(".github/workflows", f));
    expect(files.sort()).toEqual([".github/workflows/deploy.yml", ".github/workflows/pr.yml"]);
    expect(actionlint(REPO, files)).toEqual([]);
  });

  it("actionlint does report a broken workflow (the check is live)", () => {
    const dir = mkdtempSync(join(tmpdir(), "actionlint-"));
    try {
      mkdirSync(join(dir, ".github/workflows"), { recursive: true });
      writeFileSync(
        join(dir, ".github/workflows/bad.yml"),
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.pull_request.nope.title }}\n      - uses: actions/checkout@v5\n        with: { no-such-input: 1 }\n",
      );
      const errs = actionlint(dir, [".github/workflows/bad.yml"]);
      expect(errs.map((e) => e.kind)).toContain("action");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("pr: tests, then previews with the policy pack per touched stack, all of them on shared code, and comments", () => {
    const pr = load("pr.yml");
    expect(Object.keys(pr.on)).toEqual(["pull_request"]);
    const steps = (job: string) => JSON.stringify(pr.jobs[job].steps);
    expect(steps("test")).toContain("make test");
    const touched = steps("stacks");
    for (const shared of ["infra/", "components/", "config/", "policies/", "lib/", "package(-lock)?\\\\.json"])
      expect(touched).toContain(shared);
    expect(pr.jobs.preview.needs).toEqual(["test", "stacks"]);
    expect(pr.jobs.preview.strategy.matrix.stack).toContain("needs.stacks.outputs.stacks");
    expect(steps("preview")).toContain("scripts/preview-all.sh");
    expect(readFileSync(join(REPO, "scripts/preview-all.sh"), "utf8")).toMatch(
      /pulumi preview [^\n]*\n?[^\n]*--policy-pack policies\/crossguard/,
    );
    expect(pr.jobs.comment.permissions).toEqual({ "pull-requests": "write" });
    expect(steps("comment")).toContain("createComment");
  });

  it("deploy: on push to main, pulumi up per region behind the production environment, canary first", () => {
    const d = load("deploy.yml");
    expect(d.on.push.branches).toEqual(["main"]);
    expect(d.concurrency["cancel-in-progress"]).toBe(false);
    for (const job of ["canary", "regions"]) {
      expect(d.jobs[job].environment).toBe("production");
      expect(JSON.stringify(d.jobs[job].steps)).toMatch(/pulumi up --yes --stack/);
    }
    expect(d.jobs.regions.needs).toEqual(["waves", "canary"]);
    expect(d.jobs.regions.strategy["fail-fast"]).toBe(true);
  });

  it("the shell scripts are shellcheck-clean", () => {
    const scripts = [
      "scripts/preview-all.sh",
      "scripts/inventory/seal-example-secrets.sh",
      "scripts/inventory/run-ts.sh",
    ];
    const r = spawnSync(findTool("shellcheck"), scripts, {
      cwd: REPO,
      encoding: "utf8",
    });
    expect(r.stdout).toBe("");
    expect(r.status).toBe(0);
  });
});
