/**
 * First contact, through the real CLI: what a Pulumi user with an ordinary
 * install sees.
 *
 * - The ordinary path: a copy of the checkout, `npm ci`, then the README's
 *   commands (`pulumi stack select --create`, `pulumi preview -s <region>`),
 *   with none of the bootstrap's variables but PATH and PULUMI_HOME (where
 *   the CLI and its plugins are, as an ordinary install has them). The
 *   Gatekeeper release manifest is where an air-gapped operator puts it
 *   (artifacts/gatekeeper/); online it would be downloaded from the pinned URL.
 * - An invalid stack: one message listing every problem with key path and
 *   fix, no stack trace, no object dump, exit non-zero; a YAML syntax error
 *   names the file, line and column.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseDocument } from "yaml";
import { copyCheckout } from "./checkout";
import { gatekeeperArtifact } from "../../components/gatekeeperManifest";
import { GATEKEEPER_RELEASE } from "../../components/gatekeeperRelease";

const repo = path.resolve(__dirname, "..", "..");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-first-contact-"));
const home = path.join(work, "home");
const checkout = path.join(work, "checkout");

/** An ordinary user's environment: PATH and PULUMI_HOME from the toolchain, nothing else of ours. */
function ordinaryEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PULUMI_HOME: process.env.PULUMI_HOME,
    HOME: home,
    // The example stacks' documented passphrase (README "State and secrets").
    PULUMI_CONFIG_PASSPHRASE: "edgefleet-example",
    // The machine's npm cache, so `npm ci` does not fetch 580 packages again.
    npm_config_cache: path.join(os.homedir(), ".npm"),
    LANG: "C.UTF-8",
  };
  return env;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 64 << 20 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

beforeAll(() => {
  fs.mkdirSync(home, { recursive: true });
  copyCheckout(repo, checkout);
}, 60_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe("the ordinary Pulumi path", () => {
  test(
    "npm ci, then pulumi preview -s <region>, with no project environment variable",
    () => {
      const env = ordinaryEnv();
      expect(Object.keys(env).filter((k) => /^(EDGEFLEET_|PULUMI_(DISABLE|SKIP|AUTOMATION))/.test(k))).toEqual([]);

      const ci = run("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline"], checkout, env);
      expect({ status: ci.status, out: ci.status === 0 ? "" : ci.out }).toEqual({ status: 0, out: "" });

      // Air-gapped: the release manifest where the stack setting looks first.
      const a = gatekeeperArtifact(GATEKEEPER_RELEASE, checkout);
      fs.mkdirSync(path.dirname(a.file), { recursive: true });
      fs.copyFileSync(gatekeeperArtifact(GATEKEEPER_RELEASE).file, a.file);

      // README: a local backend folder (Pulumi's own variable; the default in
      // Pulumi.yaml is the operator's ~/.edgefleet/state, which a test must not touch).
      const state = path.join(work, "ordinary-state");
      fs.mkdirSync(state, { recursive: true });
      env.PULUMI_BACKEND_URL = `file://${state}`;
      const sel = run("pulumi", ["stack", "select", "--create", "factory-iiot", "--non-interactive"], checkout, env);
      expect({ status: sel.status, out: sel.status === 0 ? "" : sel.out }).toEqual({ status: 0, out: "" });
      const pre = run(
        "pulumi",
        ["preview", "-s", "factory-iiot", "--non-interactive", "--color", "never"],
        checkout,
        env,
      );
      expect([pre.status, pre.out]).toEqual([0, expect.stringMatching(/\d+ to create/)]);
      expect(pre.out).not.toMatch(/unhandled exception|EDGEFLEET_/);
    },
    15 * 60 * 1000,
  );
});

describe("a wrong config reaches the operator as the message alone", () => {
  const backend = path.join(work, "state");
  const env = () => ({ ...ordinaryEnv(), PULUMI_BACKEND_URL: `file://${backend}` });
  const stack = "wrong-config";

  // `stack init` with the passphrase provider writes the stack's salt to
  // stacks/Pulumi.<stack>.yaml; it goes again, so the checkout stays clean.
  const saltFile = path.join(repo, "stacks", `Pulumi.${stack}.yaml`);
  beforeAll(() => {
    fs.mkdirSync(backend, { recursive: true });
    const init = run("pulumi", ["stack", "init", stack, "--non-interactive"], repo, env());
    if (init.status !== 0) throw new Error(init.out);
  });
  afterAll(() => fs.rmSync(saltFile, { force: true }));

  function preview(configText: string) {
    const file = path.join(work, `Pulumi.${stack}.yaml`);
    fs.writeFileSync(file, configText);
    return run(
      "pulumi",
      ["preview", "--stack", stack, "--config-file", file, "--non-interactive", "--color", "never"],
      repo,
      env(),
    );
  }

  test(
    "an invalid stack: every problem with key and fix, no stack trace or object dump, exit non-zero, nothing created",
    () => {
      const doc = parseDocument(fs.readFileSync(path.join(repo, "stacks", "Pulumi.factory-iiot.yaml"), "utf8"));
      doc.setIn(["config", "edgefleet:sites", 0, "hosts", 0, "address"], "not-an-address");
      doc.setIn(["config", "edgefleet:upgrade", "agentBatchSize"], 0);
      const r = preview(doc.toString({ lineWidth: 0 }));
      expect(r.status).not.toBe(0);
      expect(r.out).toMatch(/stack wrong-config: 2 problems in the edgefleet config; nothing was created\./);
      expect(r.out).toContain("edgefleet:sites[0].hosts[0].address");
      expect(r.out).toContain("edgefleet:upgrade.agentBatchSize");
      expect(r.out.match(/fix: /g)?.length).toBe(2);
      expect(r.out).not.toMatch(/unhandled exception/);
      expect(r.out).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      expect(r.out).not.toMatch(/problems: \[|stackName:|ConfigError:/);
      // Nothing but the stack itself was going to be created.
      expect(r.out).not.toMatch(/^\s+\+\s+(?!pulumi:pulumi:Stack)[\w-]+:[\w/-]+:\S+/m);
    },
    5 * 60 * 1000,
  );

  test(
    "a bad host in an inventory file: the file and line beside the key path, through the CLI",
    () => {
      const doc = parseDocument(fs.readFileSync(path.join(repo, "stacks", "Pulumi.factory-iiot.yaml"), "utf8"));
      const hosts = (
        doc.getIn(["config", "edgefleet:sites", 0, "hosts"]) as { toJSON(): Record<string, unknown>[] }
      ).toJSON();
      const rel = "inventories/first-contact-wrong.csv";
      const lines = ["name,address,role,size,hostKey"];
      hosts.forEach((h, i) =>
        lines.push([h.name, i === 1 ? "10.0.0.999" : h.address, h.role, h.size, h.hostKey].join(",")),
      );
      doc.deleteIn(["config", "edgefleet:sites", 0, "hosts"]);
      doc.setIn(["config", "edgefleet:sites", 0, "inventory"], rel);
      fs.mkdirSync(path.join(repo, "inventories"), { recursive: true });
      fs.writeFileSync(path.join(repo, rel), lines.join("\n") + "\n");
      try {
        const r = preview(doc.toString({ lineWidth: 0 }));
        expect(r.status).not.toBe(0);
        expect(r.out).toMatch(/stack wrong-config: 1 problem in the edgefleet config; nothing was created\./);
        expect(r.out).toContain(`${rel}:3: edgefleet:sites[0].hosts[1].address`);
        expect(r.out).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      } finally {
        fs.rmSync(path.join(repo, rel), { force: true });
        // Only if this test made it: a real inventories/ folder stays.
        if (fs.readdirSync(path.join(repo, "inventories")).length === 0) fs.rmdirSync(path.join(repo, "inventories"));
      }
    },
    5 * 60 * 1000,
  );

  test(
    "a YAML syntax error: the CLI names the line; the preview script (PR and preview-all) names file, line and column",
    () => {
      const text = "config:\n  edgefleet:region: cn-east\n  edgefleet:sites: [\n    { name: a\n";
      const r = preview(text);
      expect(r.status).not.toBe(0);
      expect(r.out).toMatch(/invalid YAML file: yaml: line \d+/);
      expect(r.out).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

      const name = "first-contact-broken-yaml";
      const file = path.join(repo, "stacks", `Pulumi.${name}.yaml`);
      fs.writeFileSync(file, text);
      try {
        const p = run("bash", ["scripts/preview-stack.sh", name], repo, env());
        expect(p.status).not.toBe(0);
        expect(p.out).toMatch(
          new RegExp(`stacks/Pulumi\\.${name}\\.yaml:5:1: not valid YAML: .*Fix: correct the YAML at line 5, column 1`),
        );
        expect(p.out).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      } finally {
        fs.rmSync(file, { force: true });
      }
    },
    5 * 60 * 1000,
  );
});
