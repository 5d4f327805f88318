/**
 * Failure isolation and recovery of a region `up`, through the real CLI
 * against lab hosts with real sshd (README "Recovery" says what this shows,
 * in this order, and the commands):
 *
 *   1. kill -9 of the CLI while a host step runs: `pulumi up` of a region of
 *      two upstream sites (lab-1 on ef-1, lab-2 on ef-2) is killed once
 *      lab-1's control-plane step has started on ef-1 and installed its first
 *      binary. What it leaves: the backend's lock file (the next `up` is
 *      refused), a pending create in the checkpoint, and its plugins, alive,
 *      with the step still running on the host under the host lock. The
 *      documented recovery: scripts/stale-plugins.sh --kill (the host then
 *      ends the step: no process of its session is left and the host lock is
 *      free), `pulumi cancel` (the file backend's lock goes), `pulumi refresh
 *      --clear-pending-creates` (the pending record goes: `up` alone would
 *      keep it for good).
 *   2. one site's host unreachable: ef-2's link is taken down (its veth on the
 *      bridge; the config is untouched), and scripts/region-up.sh runs the
 *      up with --continue-on-error. lab-1 converges (its killed create is run
 *      again: the scripts are idempotent), its API answers and its simulated
 *      nodes and trackers are there; the run exits non-zero and its summary
 *      names lab-2, ef-2 and the step; no pending operation is left.
 *   3. the host back: the same command completes, both sites converged, and
 *      `pulumi preview --expect-no-changes` passes; no host lock is held.
 *
 * The sites are the lab's upstream control plane with KWOK nodes (K3s
 * cannot run here, tools/README.md): no K3s install chain, so nothing here
 * reaches configure.sh. Runs as root under the lab lock
 * (/run/edgefleet-lab.lock); state goes to a throwaway file backend; the lab
 * hosts, the generated stack file and every plugin the killed CLI left are
 * gone afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { K3sLab, type LabHost } from "../../lab/k3sPath";

const repo = path.resolve(__dirname, "..", "..");
// Not under /tmp or /var/tmp: every lab host gets a fresh tmpfs there.
const labDir = fs.mkdtempSync(path.join("/var/lib", "edgefleet-lab-it-region-"));
const work = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-it-region-"));
const backend = path.join(work, "state");
const stackName = `it-region-${crypto.randomBytes(4).toString("hex")}`;
const repoStackFile = path.join(repo, "stacks", `Pulumi.${stackName}.yaml`);
const env = {
  ...process.env,
  EDGEFLEET_LAB_DIR: labDir,
  PULUMI_BACKEND_URL: `file://${backend}`,
  PULUMI_CONFIG_PASSPHRASE: "edgefleet-example",
  // The program as JavaScript, unchecked (tsc checks types): each run saves the type check's time.
  PULUMI_NODEJS_TRANSPILE_ONLY: "true",
} as Record<string, string>;
const lab = new K3sLab(repo, labDir, env);

let lock: { release: () => void } = { release: () => undefined };
let labMade = false;
let hosts: LabHost[];
let configFile: string;

interface Run {
  status: number | null;
  out: string;
  stdout: string;
}
function run(cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, { cwd: repo, env, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout };
}
const pulumi = (args: string[]) =>
  run("pulumi", [...args, "--stack", stackName, "--non-interactive", "--color", "never"]);
let runs = 0;
/** scripts/region-up.sh, keeping the engine's events (EDGEFLEET_EVENTS) for the assertions. */
function regionUp(): Run & { events: { resOutputsEvent?: { metadata: { op: string; urn: string } } }[] } {
  const file = path.join(work, `events-${++runs}.jsonl`);
  const r = spawnSync("bash", ["scripts/region-up.sh", stackName, "--config-file", configFile, "--color", "never"], {
    cwd: repo,
    env: { ...env, EDGEFLEET_EVENTS: file },
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  const events = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
  return { status: r.status, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout, events };
}
const must = (r: Run) => {
  if (r.status !== 0) throw new Error(r.out);
  return r;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, ms: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000}s waiting for ${what}`);
    await sleep(200);
  }
}

/** The host's lock holder records (lib/hostStep.sh), as key=value maps. */
function holders(h: LabHost): Record<string, string>[] {
  const text = lab.onHost(h, [
    "sh",
    "-c",
    'for f in /run/edgefleet/holder.*; do [ -f "$f" ] && cat "$f" && echo; done; true',
  ]);
  return text
    .split("\n\n")
    .filter((b) => b.trim())
    .map((b) =>
      Object.fromEntries(
        b
          .trim()
          .split("\n")
          .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
      ),
    );
}

/** The host lock is free: an exclusive flock succeeds at once. */
const hostLockFree = (h: LabHost) =>
  lab
    .onHost(h, [
      "sh",
      "-c",
      "mkdir -p /run/edgefleet; flock -n -x /run/edgefleet/host.lock true && echo free || echo held",
    ])
    .trim() === "free";

/** Processes of session `sid` in the host's network namespace: what is left of a step. */
function sessionMembers(h: LabHost, sid: string): string[] {
  const pids = lab.sh("ip", ["netns", "pids", h.netns]).split("\n").filter(Boolean);
  return pids.filter((p) => {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3] === sid;
    } catch {
      return false;
    }
  });
}

const locks = () => {
  const dir = path.join(backend, ".pulumi", "locks", "organization", "edgefleet", stackName);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const exported = (): any => JSON.parse(must(pulumi(["stack", "export"])).stdout).deployment;
const pendingCreates = (): string[] =>
  (exported().pending_operations ?? []).map(
    (p: { type: string; resource: { urn: string } }) => `${p.type} ${p.resource.urn.split("::").pop()}`,
  );
const stalePlugins = (kill = false) =>
  must(run("bash", ["scripts/stale-plugins.sh", ...(kill ? ["--kill"] : [])]))
    .stdout.split("\n")
    .filter(Boolean);
const kubectl = (h: LabHost, ...args: string[]) =>
  lab.sh("kubectl", ["--kubeconfig", path.join(h.fsRoot, "etc/kubernetes/admin.kubeconfig"), ...args]);
const veth = (h: LabHost) => `efv-${h.name.replace(/^ef-/, "")}`;

/** The site's control plane answers, its simulated nodes are Ready and its trackers available. */
function expectSiteUp(h: LabHost, site: string): void {
  expect([site, kubectl(h, "get", "--raw", "/readyz")]).toEqual([site, "ok"]);
  const nodes = JSON.parse(kubectl(h, "get", "nodes", "-l", `edgefleet.dev/site=${site}`, "-o", "json")).items;
  expect([site, nodes.length]).toEqual([site, 2]);
  const tracker = JSON.parse(kubectl(h, "-n", "edgefleet", "get", "deployment", "tracker", "-o", "json"));
  expect([site, tracker.status.availableReplicas]).toEqual([site, 2]);
}

beforeAll(
  async () => {
    if (process.getuid?.() !== 0) throw new Error("the region recovery test needs root (network namespaces, sshd)");
    lock = await lab.takeWhenFree(30 * 60 * 1000);
    labMade = true;
    lab.sh("bash", ["lab/hosts.sh", "up", "2"]);
    hosts = lab.inventory().hosts;

    // The lab stack with two sites, one per host, each with two simulated nodes.
    const doc = parse(fs.readFileSync(path.join(repo, "stacks", "Pulumi.lab.yaml"), "utf8"));
    const [template] = doc.config["edgefleet:sites"];
    doc.config["edgefleet:region"] = "it-region";
    doc.config["edgefleet:lab"] = { ...doc.config["edgefleet:lab"], hosts: 2, kwokNodes: 4 };
    doc.config["edgefleet:sites"] = hosts.map((h, i) => ({
      ...template,
      name: `lab-${i + 1}`,
      kwok: { ...template.kwok, nodes: 2 },
      overrides: { ...template.overrides, tracker: { replicas: 2 } },
      hosts: [{ ...template.hosts[0], name: h.name, address: h.address }],
    }));
    fs.writeFileSync(repoStackFile, stringify(doc, { lineWidth: 0 }));
    fs.mkdirSync(backend);
    // This machine's keys and checksums go to the lab folder's copy (lab/prepare-stack.sh).
    configFile = lab.sh("bash", ["lab/prepare-stack.sh", stackName]).trim();
    fs.rmSync(repoStackFile, { force: true });
  },
  40 * 60 * 1000,
);

afterAll(
  () => {
    try {
      // Whatever the killed CLI left, should a test have stopped before its recovery.
      run("bash", ["scripts/stale-plugins.sh", "--kill"]);
      if (labMade) lab.sh("bash", ["lab/hosts.sh", "down"]);
    } finally {
      fs.rmSync(repoStackFile, { force: true });
      fs.rmSync(work, { recursive: true, force: true });
      fs.rmSync(labDir, { recursive: true, force: true });
      lock.release();
    }
  },
  5 * 60 * 1000,
);

describe("a region up: kill -9, an unreachable site, recovery", () => {
  let sid = "";

  test(
    "kill -9 of the CLI mid-step: lock, pending create and live plugins left; stale-plugins.sh --kill, pulumi cancel and refresh --clear-pending-creates clear them",
    async () => {
      const [h1] = hosts;
      const step = `${stackName}/lab-1-controlplane`;
      const cli: ChildProcess = spawn(
        "pulumi",
        ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", stackName, "--config-file", configFile],
        { cwd: repo, env, stdio: ["ignore", "pipe", "pipe"] },
      );
      let out = "";
      cli.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      cli.stderr!.on("data", (d: Buffer) => (out += d.toString()));
      const exited = new Promise<NodeJS.Signals | null>((r) => cli.on("exit", (_c, s) => r(s)));

      // Half done: the step runs in its own session on ef-1 and has installed its first binary.
      const holder = await until(`${step} to start on ${h1.name}\n${out}`, 5 * 60 * 1000, () =>
        fs.existsSync(path.join(h1.fsRoot, "usr/local/bin/etcd"))
          ? holders(h1).find((r) => r.step === step && r.session)
          : undefined,
      );
      sid = holder.session;
      cli.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");

      // The host does not know: the step goes on, under the host lock.
      expect(sessionMembers(h1, sid).length).toBeGreaterThan(0);
      expect(hostLockFree(h1)).toBe(false);

      // The backend's lock names the dead CLI; the next up is refused.
      const held = locks();
      expect(held).toHaveLength(1);
      const lockDir = path.join(backend, ".pulumi", "locks", "organization", "edgefleet", stackName);
      expect(JSON.parse(fs.readFileSync(path.join(lockDir, held[0]), "utf8")).pid).toBe(cli.pid);
      const refused = pulumi(["up", "--yes", "--skip-preview", "--config-file", configFile]);
      expect(refused.status).not.toBe(0);
      expect(refused.out).toContain("the stack is currently locked by 1 lock(s)");

      // The checkpoint: the step's create is pending (lab-2's too, if it had started).
      expect(pendingCreates()).toContain("creating lab-1-controlplane");

      // Its plugins outlived it: the language host and the dynamic provider running the step.
      const stale = stalePlugins();
      expect(stale.some((l) => l.includes("@pulumi/pulumi/cmd/dynamic-provider/"))).toBe(true);

      // Recovery, as README "Recovery" says.
      stalePlugins(true);
      // The connection closes with the provider's ssh (and its control master,
      // ControlPersist at most 30 s later); the host's watcher then stops the step.
      await until(`the step's session ${sid} on ${h1.name} to end`, 90 * 1000, () =>
        sessionMembers(h1, sid).length === 0 && hostLockFree(h1) ? true : undefined,
      );
      // ef-2's step, started at the same time, is stopped the same way.
      for (const h of hosts) {
        await until(`${h.name}'s host lock to be free`, 90 * 1000, () => (hostLockFree(h) ? true : undefined));
        expect([h.name, holders(h)]).toEqual([h.name, []]);
      }
      expect(stalePlugins()).toEqual([]);
      const cancel = must(pulumi(["cancel", "--yes"]));
      expect(cancel.out).toContain("has been canceled");
      expect(locks()).toEqual([]);
      // `up` would run the pending creates again but keep their records for
      // good (it warns on every run, success or not): they are dropped here.
      must(pulumi(["refresh", "--clear-pending-creates", "--yes", "--skip-preview", "--config-file", configFile]));
      expect(pendingCreates()).toEqual([]);
      const left = exported().resources.map((r: { urn: string }) => r.urn.split("::").pop());
      expect(left).not.toContain("lab-1-controlplane");
    },
    10 * 60 * 1000,
  );

  test(
    "ef-2 unreachable: lab-1 converges, the run exits non-zero, the summary names lab-2, ef-2 and the step",
    () => {
      const [h1, h2] = hosts;
      lab.sh("ip", ["link", "set", veth(h2), "down"]);
      const r = regionUp();

      expect(r.status).not.toBe(0);
      const summary = r.stdout.slice(r.stdout.indexOf("region summary"));
      console.info(summary);
      expect(summary).toMatch(
        new RegExp(`^region summary, stack ${stackName}: 1 of 2 sites converged; failed: lab-2$`, "m"),
      );
      expect(summary).toMatch(/^ {2}site lab-1: converged \(\d+ created/m);
      expect(summary).toMatch(/^ {2}site lab-2: FAILED/m);
      // The program's echo of the failure (its outputs wait on the failed step) is not told again.
      expect(summary).not.toMatch(/^ {2}region:/m);
      expect(summary).toContain(
        `    host ${h2.name} (root@${h2.address}:22), step lab-2-controlplane: ` +
          `site lab-2 host ${h2.name} (root@${h2.address}:22) is unreachable over SSH`,
      );
      // The killed create ran again on ef-1 (half done: up.sh is idempotent) and the whole site is there.
      const ran = r.events.filter((e) => e.resOutputsEvent).map((e) => e.resOutputsEvent!.metadata);
      expect(ran.filter((m) => m.urn.endsWith("::lab-1-controlplane")).map((m) => m.op)).toEqual(["create"]);
      expectSiteUp(h1, "lab-1");
      expect(pendingCreates()).toEqual([]);
      expect(hostLockFree(h1)).toBe(true);
    },
    10 * 60 * 1000,
  );

  test(
    "ef-2 back: the same command completes, and a preview shows no change",
    async () => {
      const [h1, h2] = hosts;
      lab.sh("ip", ["link", "set", veth(h2), "up"]);
      await until(`${h2.name}:22`, 30 * 1000, () =>
        spawnSync("bash", ["-c", `exec 3<>/dev/tcp/${h2.address}/22`], { timeout: 2000 }).status === 0
          ? true
          : undefined,
      );
      const r = regionUp();
      expect([r.status, r.stdout.slice(r.stdout.indexOf("region summary"))]).toEqual([
        0,
        expect.stringMatching(new RegExp(`^region summary, stack ${stackName}: 2 of 2 sites converged\\n`)),
      ]);
      expectSiteUp(h1, "lab-1");
      expectSiteUp(h2, "lab-2");
      expect(pendingCreates()).toEqual([]);
      const ran = r.events.filter((e) => e.resOutputsEvent).map((e) => e.resOutputsEvent!.metadata);
      expect(ran.filter((m) => m.urn.endsWith("::lab-1-controlplane")).map((m) => m.op)).toEqual(["same"]);
      must(pulumi(["preview", "--expect-no-changes", "--config-file", configFile]));
      for (const h of hosts) expect([h.name, hostLockFree(h)]).toEqual([h.name, true]);
      expect(sessionMembers(h1, sid)).toEqual([]);
    },
    10 * 60 * 1000,
  );
});
