/**
 * A bad change is stopped in the pull request's preview: a stack whose
 * tracker limit is 20x its request (the cases allow at most 5x) is refused by
 * validate() before anything is declared, in the policy config step and in
 * `pulumi preview` itself, with the policy's words, the key and the fix; the
 * unchanged stack passes the pack through the real CLI. Offline: previews
 * contact no host.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseDocument } from "yaml";

const repo = path.resolve(__dirname, "..", "..");
const backend = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-policy-state-"));
const violating = "policy-gate-violation";
const stackFile = path.join(repo, "stacks", `Pulumi.${violating}.yaml`);
const env = {
  ...process.env,
  PULUMI_BACKEND_URL: `file://${backend}`,
  PULUMI_CONFIG_PASSPHRASE: "edgefleet-example",
};

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { cwd: repo, env, encoding: "utf8", maxBuffer: 64 << 20 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function preview(stack: string) {
  const init = run("pulumi", ["stack", "select", stack, "--create", "--non-interactive"]);
  if (init.status !== 0) throw new Error(init.out);
  const config = path.join(backend, `${stack}.policy.json`);
  const cfg = run("bash", [
    "scripts/inventory/run-ts.sh",
    "scripts/inventory/policy-config.ts",
    `stacks/Pulumi.${stack}.yaml`,
  ]);
  // validate() refusing the stack is an answer, as the workflow's step fails with it.
  if (cfg.status !== 0) return cfg;
  fs.writeFileSync(config, cfg.out.trim());
  return run("pulumi", [
    "preview",
    "--stack",
    stack,
    "--non-interactive",
    "--suppress-progress",
    "--color",
    "never",
    "--policy-pack",
    "policies/crossguard/analyzer",
    "--policy-pack-config",
    config,
  ]);
}

beforeAll(() => {
  // The factory stack with one change a reviewer could miss: the tracker's CPU request cut to 10m.
  const doc = parseDocument(fs.readFileSync(path.join(repo, "stacks", "Pulumi.factory-iiot.yaml"), "utf8"));
  doc.setIn(
    ["config", "edgefleet:sites", 0, "overrides", "tracker", "resources"],
    doc.createNode({ requests: { cpu: "10m" } }),
  );
  fs.writeFileSync(stackFile, doc.toString({ lineWidth: 0 }));
});

afterAll(() => {
  fs.rmSync(stackFile, { force: true });
  fs.rmSync(backend, { recursive: true, force: true });
});

const REFUSAL =
  /edgefleet:sites\[0\]\.overrides\.tracker\.resources: the limit-ratio policy \(Gatekeeper and CrossGuard\) would refuse Deployment tracker: container "tracker": cpu limit 200m is more than 5 x its request 10m\s+fix: .*requests of at least 40m cpu/;

test(
  "the violation is refused before anything is declared, with the policy's message, the key and the fix",
  () => {
    const r = preview(violating);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(REFUSAL);
    // The program refuses it the same way when previewed without the pack's config.
    const direct = run("pulumi", ["preview", "--stack", violating, "--non-interactive", "--color", "never"]);
    expect(direct.status).not.toBe(0);
    expect(direct.out).toMatch(REFUSAL);
    expect(direct.out).toMatch(/nothing was created/);
  },
  10 * 60 * 1000,
);

test(
  "the unchanged stack passes the same policies",
  () => {
    const r = preview("factory-iiot");
    expect([r.status, r.out.match(/Policies:[\s\S]*?\n\n/)?.[0]]).toEqual([0, expect.stringMatching(/✅ edgefleet/)]);
  },
  10 * 60 * 1000,
);
