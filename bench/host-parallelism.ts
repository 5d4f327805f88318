/**
 * bench/host-parallelism.ts: how long a K3s site's preflight plus artifact
 * staging take on 1 host and on N lab hosts of one site (issue: host steps of
 * independent hosts run side by side, edgefleet:hostParallelism), through the
 * real program and engine, with the built-in transport.
 *
 * Method: lab hosts ef-1..ef-N (real sshd); placeholder artifacts of the
 * given sizes (random bytes: K3s cannot be built here, and no K3s binary
 * ever runs: each host's /usr/local/bin is mounted read-only in its own
 * mount namespace, so every install fails at its first copy and no step
 * after it runs, configure (which writes the machine's shared /etc) least of
 * all; `pulumi up --exclude` cannot do this, as the engine then saves a
 * Kubernetes provider whose kubeconfig step it left out); a throwaway file
 * backend. For each site size the window is from the engine's first
 * preflight step event to its last staging step's outputs, timed as the
 * events arrive (the engine's own timestamps are whole seconds). Before each run every host's
 * staging folder is emptied, so every run sends every byte.
 *
 * Lab hosts share the controller's 2 cores, so every host-side command
 * (preflight's checks, sshd, sha256sum) competes with the controller: the
 * unshaped figure is this machine's CPU, not the tool's parallelism. With
 * RATE=<tc rate> (for example 100mbit, an edge site's link) each host's
 * link is limited to it both ways with a tc token bucket, as edge sites are
 * reached in the field. (Added latency would need tc netem, which this
 * machine's kernel does not have.)
 *
 * Usage (root): [RATE=100mbit] bash scripts/inventory/run-ts.sh bench/host-parallelism.ts [N] [MB]
 *   N   hosts of the larger site (default 5)
 *   MB  artifact megabytes per host (default 250: about a K3s binary, its
 *       airgap images and the WasmEdge shim)
 * Appends nothing itself: redirect into bench/results/host-parallelism-<date>.txt.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, type EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { parse, stringify } from "yaml";
import { K3sLab, type LabHost } from "../lab/k3sPath";

// run-ts.sh runs scripts from the checkout root.
const repo = process.cwd();
const n = Number(process.argv[2] ?? 5);
const mb = Number(process.argv[3] ?? 250);
if (!Number.isInteger(n) || n < 2 || !Number.isInteger(mb) || mb < 1) {
  console.error("usage: bench/host-parallelism.ts [N hosts >= 2] [MB per host >= 1]");
  process.exit(2);
}

const labDir = fs.mkdtempSync(path.join("/var/lib", "edgefleet-lab-bench-par-"));
const work = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-bench-par-"));
const artifactsDir = path.join(work, "artifacts");
const stackName = `bench-par-${crypto.randomBytes(4).toString("hex")}`;
const stackFile = path.join(repo, "stacks", `Pulumi.${stackName}.yaml`);
const env = {
  ...process.env,
  EDGEFLEET_LAB_DIR: labDir,
  PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
  PULUMI_CONFIG_PASSPHRASE: "edgefleet-bench",
} as Record<string, string>;
const lab = new K3sLab(repo, labDir, env);

// The sizes of a K3s v1.34 amd64 air-gap set, scaled to `mb` in all.
const shares = { k3s: 0.28, images: 0.6, wasmedgeShim: 0.12 };
const files = { k3s: "k3s", images: "k3s-airgap-images-amd64.tar.zst", wasmedgeShim: "containerd-shim-wasmedge-v1" };

function writeArtifacts(): Record<string, { file: string; sha256: string }> {
  fs.mkdirSync(artifactsDir, { recursive: true });
  const out: Record<string, { file: string; sha256: string }> = {};
  for (const [key, share] of Object.entries(shares)) {
    const file = files[key as keyof typeof files];
    const fd = fs.openSync(path.join(artifactsDir, file), "w", 0o755);
    const h = crypto.createHash("sha256");
    let left = Math.round(mb * share * 1024 * 1024);
    while (left > 0) {
      const chunk = crypto.randomBytes(Math.min(left, 4 << 20));
      fs.writeSync(fd, chunk);
      h.update(chunk);
      left -= chunk.length;
    }
    fs.closeSync(fd);
    out[key] = { file, sha256: h.digest("hex") };
  }
  return out;
}

function writeStack(hosts: LabHost[], artifacts: object, salt: string, sealedKey: string): void {
  const config = {
    "edgefleet:region": "bench-par",
    "edgefleet:k3s": { version: "v1.34.2+k3s1", artifacts: { dir: artifactsDir, ...artifacts } },
    "edgefleet:ssh": { user: "root", port: 22, privateKey: { secure: sealedKey } },
    "edgefleet:sites": [
      {
        name: "site-a",
        profile: "edgeGeneral",
        serviceMode: "supervise",
        hosts: hosts.map((h, i) => ({
          name: h.name,
          address: h.address,
          role: i === 0 ? "server" : "agent",
          size: "2c4g",
          hostKey: h.hostKey,
        })),
      },
    ],
  };
  fs.writeFileSync(stackFile, stringify({ config, encryptionsalt: salt }, { lineWidth: 0 }));
}

/** What configure.sh writes: a lab host's /etc is the machine's, so it must never appear. */
const SYSCTL_FILE = "/etc/sysctl.d/90-edgefleet-k3s.conf";

/** The host's /usr/local/bin read-only in its mount namespace, checked: installs there must fail. */
function readOnlyBin(h: LabHost): void {
  lab.onHost(h, [
    "sh",
    "-c",
    "mount --bind /usr/local/bin /usr/local/bin && mount -o remount,bind,ro /usr/local/bin && " +
      "if touch /usr/local/bin/.edgefleet-probe 2>/dev/null; then echo 'still writable' >&2; exit 1; fi",
  ]);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("needs root (network namespaces, sshd)");
  const lock = await lab.takeWhenFree(30 * 60 * 1000);
  try {
    lab.sh("bash", ["lab/hosts.sh", "up", String(n)]);
    const hosts = lab.inventory().hosts;
    const standIn = lab.cgroupStandIn(hosts);
    const rate = process.env.RATE?.trim();
    if (rate) {
      const tbf = ["root", "tbf", "rate", rate, "burst", "256kb", "latency", "100ms"];
      for (const h of hosts) {
        lab.sh("tc", ["qdisc", "replace", "dev", `efv-${h.name.replace(/^ef-/, "")}`, ...tbf]);
        lab.sh("ip", ["netns", "exec", h.netns, "tc", "qdisc", "replace", "dev", "eth0", ...tbf]);
      }
    }
    const artifacts = writeArtifacts();

    fs.mkdirSync(path.join(work, "state"));
    lab.sh("pulumi", ["stack", "init", stackName, "--non-interactive"]);
    const salt = parse(fs.readFileSync(stackFile, "utf8")).encryptionsalt;
    writeStack(hosts, artifacts, salt, "");
    lab.sh(
      "pulumi",
      ["config", "set", "--secret", "--path", "--stack", stackName, "edgefleet:ssh.privateKey"],
      fs.readFileSync(lab.inventory().privateKeyPath, "utf8"),
    );
    const sealedKey = parse(fs.readFileSync(stackFile, "utf8")).config["edgefleet:ssh"].privateKey.secure;
    const stack = await LocalWorkspace.selectStack({ stackName, workDir: repo }, { envVars: env });

    console.log(`# bench/host-parallelism.ts ${n} ${mb} on ${os.hostname()} at ${new Date().toISOString()}`);
    console.log(
      `# ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os.loadavg()[0].toFixed(2)}`,
    );
    console.log(`# links: ${rate ? `${rate} each way per host (tc tbf)` : "unshaped (bridge)"}`);
    if (standIn) console.log(`# cgroup v1 machine: lab hosts got a stand-in /sys/fs/cgroup (${standIn})`);
    console.log("hosts\tMB/host\tpreflight+stage (s)\tup wall (s)");
    const results = new Map<number, number[]>();
    for (const size of [1, n, 1, n]) {
      for (const h of hosts) lab.onHost(h, ["rm", "-rf", "/var/lib/edgefleet/staging"]);
      writeStack(hosts.slice(0, size), artifacts, salt, sealedKey);
      // Receipt times: the events' own timestamps are whole seconds.
      const events: { e: EngineEvent; t: number }[] = [];
      const t0 = Date.now();
      for (const h of hosts) readOnlyBin(h);
      const failed = await stack
        .up({
          // Every host's staging runs even once an install has failed.
          continueOnError: true,
          onEvent: (e) => events.push({ e, t: Date.now() }),
          onOutput: () => undefined,
        })
        .then(
          () => "",
          (e: Error) => e.message,
        );
      if (!/Read-only file system/.test(failed)) {
        throw new Error(`the up was to fail at the install, and did not: ${failed.slice(-2000)}`);
      }
      const wall = (Date.now() - t0) / 1000;
      const pre = events.filter(({ e }) => e.resourcePreEvent?.metadata.urn.endsWith("-preflight")).map((x) => x.t);
      const staged = events.filter(({ e }) => e.resOutputsEvent?.metadata.urn.endsWith("-stage")).map((x) => x.t);
      if (pre.length !== size || staged.length !== size) {
        throw new Error(`expected ${size} preflights and stagings, saw ${pre.length} and ${staged.length}`);
      }
      const window = (Math.max(...staged) - Math.min(...pre)) / 1000;
      results.set(size, [...(results.get(size) ?? []), window]);
      console.log(`${size}\t${mb}\t${window.toFixed(1)}\t${wall.toFixed(1)}`);
      await stack.destroy({ onOutput: () => undefined });
      if (fs.existsSync(SYSCTL_FILE)) throw new Error(`${SYSCTL_FILE} appeared: a configure step ran; remove it`);
      for (const h of hosts)
        lab.onHost(h, ["sh", "-c", "umount /usr/local/bin; find /var/lib/edgefleet -mindepth 1 -delete"]);
    }
    const best = (k: number) => Math.min(...results.get(k)!);
    console.log(`# ratio ${n} hosts / 1 host (best of 2 each): ${(best(n) / Math.max(best(1), 1)).toFixed(2)}`);
  } finally {
    try {
      lab.sh("bash", ["lab/hosts.sh", "down"]);
    } finally {
      fs.rmSync(stackFile, { force: true });
      fs.rmSync(work, { recursive: true, force: true });
      fs.rmSync(labDir, { recursive: true, force: true });
      lock.release();
    }
  }
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
