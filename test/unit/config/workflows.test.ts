/**
 * The GitHub workflows pass actionlint (built from tools/go/actionlint), and
 * do what issue 7 asks of them. actionlint is found in EDGEFLEET_TOOLS_BIN
 * (tools/bootstrap.sh --env) or on PATH; a missing linter fails the test
 * rather than skipping it.
 *
 * The workflows are read as YAML and only their `run:` scripts and `uses:`
 * count: a command in a comment or a step name proves nothing.
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

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  "runs-on": string;
  needs?: string | string[];
  if?: string;
  environment?: string;
  permissions?: Record<string, string>;
  strategy?: { "fail-fast"?: boolean; "max-parallel"?: number; matrix: Record<string, unknown> };
  steps: Step[];
}
interface Workflow {
  on: Record<string, { branches?: string[] } | null>;
  concurrency: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const load = (f: string) => parse(readFileSync(join(WORKFLOWS, f), "utf8")) as Workflow;
const pr = load("pr.yml");
const deploy = load("deploy.yml");

/** The commands of a shell script: continuation lines joined, comments and blank lines dropped. */
function commandsOf(script: string): string[] {
  return script
    .replace(/\s*\\\n\s*/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** The arguments of each command that runs `script` (after any VAR=value prefixes), up to `||`, `&&`, `;` or `|`. */
function invocations(commands: string[], script: string): string[][] {
  const found: string[][] = [];
  for (const c of commands) {
    const words = c.split(/\s+/);
    let i = 0;
    while (i < words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[i])) i++;
    if (words[i] !== script) continue;
    const args: string[] = [];
    for (const w of words.slice(i + 1)) {
      if (["||", "&&", ";", "|"].includes(w)) break;
      args.push(w);
    }
    found.push(args);
  }
  return found;
}

// `pulumi preview` where a command starts, not in an echo or a message.
const PULUMI_PREVIEW = /(^|&&\s*|\|\|\s*|;\s*)pulumi preview\b/;

const runCommands = (job: Job) => job.steps.flatMap((s) => (s.run ? commandsOf(s.run) : []));
const scriptCommands = (path: string) => commandsOf(readFileSync(join(REPO, path), "utf8"));

const AIRGAPPED = "vars.AIRGAPPED_RUNNER != ''";
const HOSTED = "vars.AIRGAPPED_RUNNER == ''";
// Steps that build Go (the pinned toolchain): tools/bootstrap.sh, or scripts that call it.
const GO_BUILD = /(^|[\s/])(go (build|install)|tools\/bootstrap\.sh|scripts\/deps\.sh|make test|scripts\/test\.sh)\b/;

/** Each job's steps that build Go or install Go, with the job's name. */
function goSteps(w: Workflow): { job: string; step: Step }[] {
  return Object.entries(w.jobs).flatMap(([job, j]) =>
    j.steps
      .filter(
        (s) => s.uses?.startsWith("actions/setup-go@") || (s.run && commandsOf(s.run).some((c) => GO_BUILD.test(c))),
      )
      .map((step) => ({ job, step })),
  );
}

/** Where the Pulumi CLI is used: the preview and deploy jobs. */
const PULUMI_JOBS: [string, Job][] = [
  ["pr/preview", pr.jobs.preview],
  ["deploy/canary", deploy.jobs.canary],
  ["deploy/regions", deploy.jobs.regions],
];

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

  it("the helpers read run scripts, not comments", () => {
    const cmds = commandsOf('# scripts/preview-stack.sh "$X"\nA=1 B=2 scripts/x.sh "$s" \\\n  --flag || y+=(1)\n');
    expect(cmds).toEqual(['A=1 B=2 scripts/x.sh "$s" --flag || y+=(1)']);
    expect(invocations(cmds, "scripts/x.sh")).toEqual([['"$s"', "--flag"]]);
    expect(invocations(cmds, "scripts/preview-stack.sh")).toEqual([]);
  });

  it("pr: the README test command, then one preview job per touched stack, bounded, then one comment", () => {
    expect(Object.keys(pr.on)).toEqual(["pull_request"]);
    expect(runCommands(pr.jobs.test).some((c) => /(^|\s)make test$/.test(c))).toBe(true);

    const preview = pr.jobs.preview;
    expect(preview.needs).toEqual(["test", "stacks"]);
    expect(preview.if).toBe("needs.stacks.outputs.stacks != '[]'");
    expect(preview.strategy?.matrix.stack).toBe("${{ fromJSON(needs.stacks.outputs.stacks) }}");
    expect(preview.strategy?.["fail-fast"]).toBe(false);
    const maxParallel = preview.strategy?.["max-parallel"];
    expect(typeof maxParallel).toBe("number");
    expect(maxParallel).toBeGreaterThanOrEqual(1);
    expect(maxParallel).toBeLessThanOrEqual(10);

    const comment = pr.jobs.comment;
    expect(comment.needs).toEqual(["stacks", "preview"]);
    expect(comment.if).toMatch(/^always\(\) && /);
    expect(comment.permissions).toMatchObject({ "pull-requests": "write" });
    const script = comment.steps.find((s) => s.uses?.startsWith("actions/github-script@"))?.with?.script as string;
    expect(script).toContain("createComment");
    expect(script).toContain("updateComment");
  });

  it("pr: the previews and scripts/preview-all.sh run the same per-stack command, scripts/preview-stack.sh", () => {
    // The matrix job: one preview, of its matrix stack, through the script.
    const step = pr.jobs.preview.steps.find(
      (s) => s.run && invocations(commandsOf(s.run), "scripts/preview-stack.sh").length,
    );
    expect(step).toBeDefined();
    expect(invocations(commandsOf(step!.run!), "scripts/preview-stack.sh")).toEqual([['"$STACK"']]);
    expect(step!.env?.STACK).toBe("${{ matrix.stack }}");
    expect(step!.if).toBeUndefined();
    expect(invocations(runCommands(pr.jobs.preview), "scripts/preview-stack.sh")).toHaveLength(1);

    // preview-all.sh (`make test`): the same script, once per stack of its loop.
    const all = scriptCommands("scripts/preview-all.sh");
    expect(invocations(all, "scripts/preview-stack.sh")).toEqual([['"$stack"']]);
    expect(all).toContain('for stack in "${stacks[@]}"; do');

    // Neither runs the CLI's preview itself: the command lives in one place.
    for (const cmds of [
      ...Object.values(pr.jobs).map(runCommands),
      ...Object.values(deploy.jobs).map(runCommands),
      all,
    ])
      expect(cmds.filter((c) => PULUMI_PREVIEW.test(c))).toEqual([]);
    const stackCmds = scriptCommands("scripts/preview-stack.sh");
    const previews = stackCmds.filter((c) => PULUMI_PREVIEW.test(c));
    expect(previews).toHaveLength(1);
    expect(previews[0]).toMatch(
      /pulumi preview --stack "\$stack" .*--policy-pack "\$policy_pack" --policy-pack-config /,
    );
    expect(stackCmds).toContain("policy_pack=${POLICY_PACK:-policies/crossguard}");
    expect(stackCmds.some((c) => c.includes("scripts/inventory/config-size.ts"))).toBe(true);
  });

  it("pr: real state when the repository has a backend, throwaway state otherwise", () => {
    const step = pr.jobs.preview.steps.find((s) => s.run?.includes("scripts/preview-stack.sh"))!;
    expect(step.env?.PREVIEW_BACKEND_URL).toBe("${{ secrets.PULUMI_BACKEND_URL }}");
    const cmds = scriptCommands("scripts/preview-stack.sh");
    // With a backend: the existing stack there; a stack it lacks (a new region) is never created in it.
    expect(cmds).toContain("export PULUMI_BACKEND_URL=$PREVIEW_BACKEND_URL");
    expect(cmds.some((c) => /pulumi stack select "\$stack"/.test(c))).toBe(true);
    // Without one: a local file backend in the script's own temp dir, and `stack init` there.
    expect(cmds).toContain('export PULUMI_BACKEND_URL="file://$work/state"');
    expect(cmds).toContain("work=$(mktemp -d)");
    expect(cmds.filter((c) => /pulumi stack init/.test(c))).toEqual([
      'pulumi stack init "$stack" --non-interactive || exit 1',
    ]);
  });

  it("pr: the summary the comment posts is preview-all.sh's, from the files the matrix jobs keep", () => {
    const steps = pr.jobs.preview.steps;
    const dir = steps.find((s) => s.run?.includes("scripts/preview-stack.sh"))!.env?.SUMMARY_DIR;
    expect(dir).toBe("${{ runner.temp }}/summary");
    const upload = steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"))!;
    expect(upload.with).toMatchObject({ name: "preview-${{ matrix.stack }}", path: `${dir}/\${{ matrix.stack }}.md` });
    expect(upload.if).toBe("always()");
    const download = pr.jobs.comment.steps.find((s) => s.uses?.startsWith("actions/download-artifact@"))!;
    expect(download.with).toMatchObject({ pattern: "preview-*", "merge-multiple": true });
    expect(invocations(runCommands(pr.jobs.comment), "scripts/preview-all.sh")).toEqual([
      ["--summary", '"$RUNNER_TEMP/previews"', '>"$RUNNER_TEMP/comment.md"'],
    ]);
    expect(download.with?.path).toBe("${{ runner.temp }}/previews");
  });

  it("pr: a change to one stack file previews that stack; shared code previews every stack; docs none", () => {
    const script = pr.jobs.stacks.steps.find((s) => s.id === "touched")!.run!;
    const dir = mkdtempSync(join(tmpdir(), "touched-"));
    const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
    try {
      mkdirSync(join(dir, "stacks"));
      mkdirSync(join(dir, "lib"));
      mkdirSync(join(dir, "scripts"));
      for (const f of readdirSync(join(REPO, "stacks")).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)))
        writeFileSync(join(dir, "stacks", f), "config: {}\n");
      writeFileSync(join(dir, "README.md"), "x\n");
      writeFileSync(join(dir, "lib/a.ts"), "x\n");
      writeFileSync(join(dir, "scripts/preview-stack.sh"), "x\n");
      git("init", "-q");
      git("-c", "user.email=t@t", "-c", "user.name=t", "add", ".");
      git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base");
      const base = git("rev-parse", "HEAD");
      const touched = (...files: string[]): string[] => {
        git("checkout", "-q", "--detach", base);
        for (const f of files) writeFileSync(join(dir, f), "changed\n");
        git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "change");
        const out = join(dir, ".output");
        writeFileSync(out, "");
        execFileSync("bash", ["-e", "-c", script], {
          cwd: dir,
          env: { ...process.env, BASE_SHA: base, HEAD_SHA: git("rev-parse", "HEAD"), GITHUB_OUTPUT: out },
        });
        const line = readFileSync(out, "utf8").trim();
        expect(line).toMatch(/^stacks=/);
        return JSON.parse(line.slice("stacks=".length)) as string[];
      };
      const every = readdirSync(join(REPO, "stacks"))
        .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => !!s && s !== "lab")
        .sort();
      expect(every.length).toBeGreaterThan(1);
      expect(touched(`stacks/Pulumi.${every[0]}.yaml`)).toEqual([every[0]]);
      expect(touched("stacks/Pulumi.lab.yaml")).toEqual([]);
      expect(touched("README.md")).toEqual([]);
      expect(touched("lib/a.ts").sort()).toEqual(every);
      expect(touched("scripts/preview-stack.sh").sort()).toEqual(every);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("deploy: on push to main, pulumi up per region behind the production environment, canary first", () => {
    const d = deploy;
    expect(d.on.push?.branches).toEqual(["main"]);
    expect(d.concurrency["cancel-in-progress"]).toBe(false);
    for (const job of ["canary", "regions"]) {
      expect(d.jobs[job].environment).toBe("production");
      const ups = runCommands(d.jobs[job]).filter((c) => /\bpulumi up\b/.test(c));
      expect(ups).toHaveLength(1);
      expect(ups[0]).toMatch(/^pulumi up --yes --stack "\$STACK" /);
      // The pack directory, as the official CLI runs it; only the air-gapped toolchain swaps in its launcher.
      expect(ups[0]).toContain('--policy-pack "${POLICY_PACK:-policies/crossguard}" --policy-pack-config ');
      // A deploy without a shared backend would keep its state on a runner that goes away.
      expect(runCommands(d.jobs[job])).toContain('if [ -z "$PULUMI_BACKEND_URL" ]; then');
    }
    expect(d.jobs.canary.steps.at(-1)?.env?.STACK).toBe("${{ needs.waves.outputs.canary }}");
    expect(d.jobs.regions.steps.at(-1)?.env?.STACK).toBe("${{ matrix.stack }}");
    expect(d.jobs.regions.needs).toEqual(["waves", "canary"]);
    expect(d.jobs.regions.strategy?.["fail-fast"]).toBe(true);
    expect(typeof d.jobs.regions.strategy?.["max-parallel"]).toBe("number");
  });

  it("policies/crossguard is a Node policy pack the official CLI starts from the repository's node_modules", () => {
    const pack = join(REPO, "policies/crossguard");
    expect(parse(readFileSync(join(pack, "PulumiPolicy.yaml"), "utf8"))).toMatchObject({ runtime: "nodejs" });
    const pkg = JSON.parse(readFileSync(join(pack, "package.json"), "utf8")) as Record<string, unknown>;
    expect(existsSync(join(pack, pkg.main as string))).toBe(true);
    // No dependencies of its own, so no `npm ci` in its folder: the language host
    // resolves run-policy-pack from the pack's directory, which reaches the root node_modules.
    expect(pkg.dependencies ?? {}).toEqual({});
    for (const mod of ["@pulumi/pulumi/cmd/run-policy-pack", "@pulumi/policy"])
      expect(require.resolve(mod, { paths: [pack] })).toContain(join(REPO, "node_modules"));
  });

  it("Pulumi as its users install it: the official action at the pinned version, npm ci with npm's cache", () => {
    const pin = /^PULUMI_VERSION=(.+)$/m.exec(readFileSync(join(REPO, "tools/versions.env"), "utf8"))![1];
    const sdk = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as Record<string, Record<string, string>>)
      .dependencies["@pulumi/pulumi"];
    expect(pin).toBe(sdk);
    for (const [where, job] of PULUMI_JOBS) {
      const hosted = job.steps.filter((s) => s.if === HOSTED);
      const action = hosted.find((s) => s.uses?.startsWith("pulumi/actions@"));
      expect({ where, uses: action?.uses, with: action?.with }).toEqual({
        where,
        uses: "pulumi/actions@v7",
        // Install only: no `command`, the scripts run the CLI.
        with: { "pulumi-version": "${{ steps.pins.outputs.PULUMI_VERSION }}" },
      });
      const node = hosted.find((s) => s.uses?.startsWith("actions/setup-node@"));
      expect(node?.with).toEqual({ "node-version-file": ".nvmrc", cache: "npm" });
      expect(hosted.some((s) => s.run && commandsOf(s.run).some((c) => /^npm ci\b/.test(c)))).toBe(true);
      expect(hosted.some((s) => s.uses?.startsWith("actions/cache@") && s.with?.path === "~/.pulumi/plugins")).toBe(
        true,
      );
      expect(job["runs-on"]).toContain("vars.AIRGAPPED_RUNNER");

      // The pins step, run: it hands the action versions.env's pin.
      const pins = job.steps.find((s) => s.id === "pins")!;
      const tmp = mkdtempSync(join(tmpdir(), "pins-"));
      try {
        const out = join(tmp, "output");
        writeFileSync(out, "");
        execFileSync("bash", ["-e", "-o", "pipefail", "-c", pins.run!], {
          cwd: REPO,
          env: { ...process.env, GITHUB_OUTPUT: out },
        });
        expect(readFileSync(out, "utf8")).toBe(`PULUMI_VERSION=${pin}\n`);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
  });

  it("the preview and deploy jobs set Pulumi up with the same steps", () => {
    const setup = (job: Job) => job.steps.slice(0, -1);
    const [, first] = PULUMI_JOBS[0];
    const previewSetup = first.steps.slice(
      0,
      first.steps.findIndex((s) => s.run?.includes("scripts/preview-stack.sh")),
    );
    for (const [, job] of PULUMI_JOBS.slice(1)) expect(setup(job)).toEqual(previewSetup);
  });

  it("no Go build on GitHub's runners for Pulumi: the toolchain only behind the air-gapped runner condition", () => {
    const found = [
      ...goSteps(pr).map((g) => ({ ...g, job: `pr/${g.job}`, runsOn: pr.jobs[g.job]["runs-on"] })),
      ...goSteps(deploy).map((g) => ({ ...g, job: `deploy/${g.job}`, runsOn: deploy.jobs[g.job]["runs-on"] })),
    ];
    const gated = found.filter((g) => g.step.if === AIRGAPPED);
    expect(new Set(gated.map((g) => g.job))).toEqual(new Set(PULUMI_JOBS.map(([where]) => where)));
    // The condition and the runner are one variable: set, the job is on the air-gapped runner.
    for (const g of gated) expect(g.runsOn).toMatch(/^\$\{\{ vars\.AIRGAPPED_RUNNER \|\| /);
    // `make test` is the README's test command: the lab and the policy engines
    // exist only as Go builds, so its job builds those on any runner, but takes
    // the Pulumi CLI and plugins from pulumi/actions unless it is air-gapped.
    expect(new Set(found.filter((g) => g.step.if !== AIRGAPPED).map((g) => g.job))).toEqual(new Set(["pr/test"]));
    const testJob = pr.jobs.test;
    const runTest = testJob.steps.find((s) => s.run?.includes("make test"))!;
    expect(runTest.env?.EDGEFLEET_PULUMI).toBe("${{ vars.AIRGAPPED_RUNNER == '' && 'installed' || 'built' }}");
    expect(runTest.run).toContain("EDGEFLEET_PULUMI");
    const action = testJob.steps.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
    expect(action.if).toBe("vars.AIRGAPPED_RUNNER == ''");
    expect(testJob.steps.indexOf(action)).toBeLessThan(testJob.steps.indexOf(runTest));

    // The air-gapped path hands the pack's launcher to the CLI it built; nothing else names the launcher.
    for (const [where, job] of PULUMI_JOBS) {
      const offline = job.steps.filter((s) => s.if === AIRGAPPED && s.run);
      const setsLauncher = offline.some((s) =>
        commandsOf(s.run!).includes('echo "POLICY_PACK=policies/crossguard/analyzer"'),
      );
      expect({ where, setsLauncher }).toEqual({ where, setsLauncher: true });
      const elsewhere = job.steps.filter(
        (s) => s.if !== AIRGAPPED && JSON.stringify(s).includes("crossguard/analyzer"),
      );
      expect({ where, elsewhere }).toEqual({ where, elsewhere: [] });
    }
  });

  it("the shell scripts are shellcheck-clean", () => {
    const scripts = [
      "scripts/preview-all.sh",
      "scripts/preview-stack.sh",
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
