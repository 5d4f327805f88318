/**
 * Drift through the real engine (the unit tests call the provider directly):
 * `pulumi refresh` of a built-in HostCommand with an observe script reads the
 * host over SSH, shows nothing for a host as declared, shows a file changed on
 * the host as a diff of the step's environment, and the next `pulumi up`
 * re-runs the step, which repairs the host; after that a plain `up` has no
 * changes and opens no SSH session. The host is a loopback sshd
 * (test/fixtures/sshd), its "installed" files in that server's tmp dir.
 *
 * The program is test/integration/fixtures/drift. State is a file backend in a
 * tmp dir; the stack's config file lives there too (--config-file), so nothing
 * is written into the checkout. The provider loads lib/hostCommandRun.ts from
 * its working folder (the program's), as from a checkout's root: so the
 * project is a tmp folder whose program only imports the fixture's, next to
 * links to the checkout's lib and node_modules.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { startSshd, Sshd } from "../fixtures/sshd/sshd";
import { engineFixture, must } from "./engineFixture";

const repo = path.join(__dirname, "..", "..");
const fixture = path.join(__dirname, "fixtures", "drift");
const { stack, tmp, backend, project, configFile, pulumi } = engineFixture("drift", "edgefleet-drift-test");
const TOKEN = "drift-test-secret-token-4711";
const TIMEOUT = 3 * 60 * 1000;

let sshd: Sshd;
let hostDir: string;

/** `pulumi <command>` of the fixture. */
function run(command: "up" | "refresh" | "preview", extra: string[] = []) {
  return pulumi(project, [
    command,
    "--config-file",
    configFile,
    "--suppress-progress",
    "--diff",
    ...(command === "preview" ? [] : ["--yes"]),
    ...extra,
  ]);
}

/** Values go on stdin: a key is no command-line argument, even a test's. */
function setConfig(key: string, value: string, secret = false) {
  must(pulumi(project, ["config", "set", "--config-file", configFile, ...(secret ? ["--secret"] : []), key], value));
}

beforeAll(async () => {
  sshd = await startSshd();
  hostDir = fs.mkdtempSync(path.join(sshd.dir, "host-"));
  fs.mkdirSync(backend);
  fs.mkdirSync(project);
  const yaml = fs
    .readFileSync(path.join(fixture, "Pulumi.yaml"), "utf8")
    .replace(/^(\s+tsconfig: ).*$/m, `$1${path.join(repo, "tsconfig.pulumi.json")}`);
  fs.writeFileSync(path.join(project, "Pulumi.yaml"), yaml);
  fs.writeFileSync(path.join(project, "index.ts"), `import ${JSON.stringify(path.join(fixture, "index"))};\n`);
  fs.symlinkSync(path.join(repo, "lib"), path.join(project, "lib"));
  fs.symlinkSync(path.join(repo, "node_modules"), path.join(project, "node_modules"));
  must(pulumi(project, ["stack", "init", "--no-select"]));
  setConfig("dir", hostDir);
  setConfig("port", String(sshd.port));
  setConfig("user", sshd.user);
  setConfig("hostKey", sshd.hostKey);
  setConfig("privateKey", sshd.clientKey, true);
  setConfig("token", TOKEN, true);
  must(run("up"));
}, TIMEOUT);

afterAll(async () => {
  try {
    pulumi(project, ["stack", "rm", "--yes", "--force"]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (sshd) await sshd.stop();
  }
});

test(
  "a refresh of a host as declared reads it and reports no changes",
  () => {
    expect(fs.readFileSync(path.join(hostDir, "k3s"), "utf8")).toBe("k3s binary v1\n");
    const before = sshd.accepted();
    const r = run("refresh", ["--expect-no-changes"]);
    expect(r.status).toBe(0);
    expect(sshd.accepted()).toBeGreaterThan(before);
  },
  TIMEOUT,
);

test(
  "a binary changed on the host shows at refresh, and the next up repairs it",
  () => {
    fs.writeFileSync(path.join(hostDir, "k3s"), "someone else's k3s\n");
    const r = must(run("refresh"));
    expect(r.out).toMatch(/~ K3S_SHA256\s*: "[0-9a-f]{64}" => "[0-9a-f]{64}"/);
    expect(r.out).not.toMatch(/~ CONF\s*:/);

    const up = must(run("up"));
    expect(up.out).toMatch(/~ 1 updated/);
    expect(fs.readFileSync(path.join(hostDir, "k3s"), "utf8")).toBe("k3s binary v1\n");
    must(run("refresh", ["--expect-no-changes"]));
  },
  TIMEOUT,
);

test(
  "a config edited on the host shows at refresh as its digest, and the next up repairs it",
  () => {
    const file = path.join(hostDir, "config.yaml");
    const declared = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, `${declared}edited: by hand\n`);
    const r = must(run("refresh"));
    // The outputs keep the long config as its digest; the host's digest replaces it.
    expect(r.out).toMatch(/~ CONF\s*: "sha256:[0-9a-f]{64}" => "sha256:[0-9a-f]{64}"/);
    must(run("up"));
    expect(fs.readFileSync(file, "utf8")).toBe(declared);
    must(run("refresh", ["--expect-no-changes"]));
  },
  TIMEOUT,
);

test(
  "after the repair, a plain up has no changes and opens no SSH session",
  () => {
    const before = sshd.accepted();
    const r = run("up", ["--expect-no-changes"]);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/Resources:\s+2 unchanged\s/);
    expect(sshd.accepted()).toBe(before);
  },
  TIMEOUT,
);

test("the secret never reaches the state in clear", () => {
  const exported = must(pulumi(project, ["stack", "export"])).stdout;
  expect(exported).not.toContain(TOKEN);
  expect(exported).not.toContain(sshd.clientKey.split("\n")[1]);
});

test(
  "a host that cannot be reached fails the refresh, naming the host and the step: never 'no drift'",
  async () => {
    await sshd.stop();
    const r = run("refresh");
    expect(r.status).not.toBe(0);
    expect(r.out).toContain(
      `refresh of ${stack}/install: cannot read the host's installed state, so its drift is unknown: host edge-drift-01 (`,
    );
    expect(r.out).toMatch(/is unreachable over SSH/);
  },
  TIMEOUT,
);

test("nothing was written into the checkout", () => {
  expect(fs.readdirSync(fixture).sort()).toEqual(["Pulumi.yaml", "index.ts"]);
  const status = spawnSync("git", ["status", "--porcelain", "--", "test/integration/fixtures/drift"], {
    cwd: repo,
    encoding: "utf8",
  });
  // Work-tree changes and new files only: what a commit has staged is not the test's.
  expect(status.stdout.split("\n").filter((l) => l.length > 1 && l[1] !== " ")).toEqual([]);
});
