/**
 * The K3s path on lab hosts, for tests and benchmarks that drive the real
 * program against them (test/integration/hostFaults.test.ts,
 * bench/host-parallelism.ts): the machine-wide lab lock, the lab's
 * inventory, commands inside a host's namespaces, and the stand-in
 * /sys/fs/cgroup a cgroup v1 machine needs for preflight to judge anything
 * else. K3s itself never runs here (tools/README.md): what uses this stops
 * before a K3s binary would start.
 */
import { execFileSync, spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** One lab per machine (one bridge efbr0): whoever brings hosts up holds this. */
export const LAB_LOCK = "/run/edgefleet-lab.lock";

export interface LabHost {
  name: string;
  address: string;
  hostKey: string;
  sshdLog: string;
  fsRoot: string;
  netns: string;
}

export interface LabInventory {
  privateKeyPath: string;
  hosts: LabHost[];
}

export class K3sLab {
  readonly repo: string;
  readonly labDir: string;
  readonly env: NodeJS.ProcessEnv;

  // Plain fields, not parameter properties: scripts run this file with Node's type stripping.
  constructor(repo: string, labDir: string, env: NodeJS.ProcessEnv) {
    this.repo = repo;
    this.labDir = labDir;
    this.env = env;
  }

  sh(cmd: string, args: string[], input?: string): string {
    return execFileSync(cmd, args, {
      cwd: this.repo,
      env: this.env,
      input,
      encoding: "utf8",
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      maxBuffer: 64 << 20,
    });
  }

  inventory(): LabInventory {
    return JSON.parse(fs.readFileSync(path.join(this.labDir, "inventory.json"), "utf8"));
  }

  /** Runs a command inside a lab host's namespaces, as its sshd sessions see the machine. */
  onHost(h: LabHost, args: string[], input?: string): string {
    return this.sh(
      "nsenter",
      [
        `--mount=${this.labDir}/ns/${h.name}.mnt`,
        `--uts=${this.labDir}/ns/${h.name}.uts`,
        `--net=/run/netns/${h.netns}`,
        "--",
        ...args,
      ],
      input,
    );
  }

  /** A lab someone else made (its bridge or hosts); `hosts.sh up` would take it over, so it must be gone first. */
  otherLab(): string | undefined {
    const links = this.sh("ip", ["-o", "link", "show"]);
    if (/^\d+: efbr0[:@]/m.test(links)) return "bridge efbr0";
    const ns = this.sh("ip", ["netns", "list"])
      .split("\n")
      .map((l) => l.split(" ")[0])
      .filter((n) => /^ef-\d+$/.test(n));
    return ns.length > 0 ? `network namespaces ${ns.join(", ")}` : undefined;
  }

  /**
   * The lab lock, once no other lab is up. A lab left behind by a failed run
   * outside the lock is not ours to remove: wait for its owner, without
   * holding the lock (their `hosts.sh down` may need it), then give up naming it.
   */
  async takeWhenFree(timeoutMs: number): Promise<{ release: () => void }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const held = await takeLabLock();
      const other = this.otherLab();
      if (!other) return held;
      held.release();
      if (Date.now() > deadline) {
        throw new Error(
          `another lab is up on this machine (${other}) though no one holds ${LAB_LOCK}; ` +
            "the lab is one per machine: its owner must run lab/hosts.sh down (with its EDGEFLEET_LAB_DIR)",
        );
      }
      await new Promise((r) => setTimeout(r, 15_000));
    }
  }

  /**
   * Lab hosts share the machine's kernel and /sys: on a cgroup v1 machine
   * preflight rightly reports cgroup v2 missing on every host, which would
   * hide every other outcome. If that is a bare host's ONLY complaint, each
   * host's private mount namespace gets a stand-in /sys/fs/cgroup (a tmpfs
   * listing the cpu, memory and pids controllers) and this returns the
   * machine's complaint; any other complaint is a lab fault and throws. On
   * a cgroup v2 machine nothing is made.
   */
  cgroupStandIn(hosts: LabHost[]): string | undefined {
    const h1 = hosts[0];
    let bare = "";
    try {
      this.onHost(
        h1,
        ["env", `HOST_NAME=${h1.name}`, "ROLE=server", "MIN_CPU_MILLIS=2000", "MIN_MEMORY_MIB=4096", "bash", "-s"],
        fs.readFileSync(path.join(this.repo, "infra/scripts/preflight.sh"), "utf8"),
      );
    } catch (e) {
      bare = String((e as { stderr?: string }).stderr ?? e).trim();
    }
    if (!bare) return undefined;
    const reasons = bare.replace(`preflight failed on ${h1.name}: `, "").split("; ");
    const notCgroup = reasons.filter((r) => !/^cgroup v2 /.test(r));
    if (notCgroup.length > 0) throw new Error(`a bare lab host fails preflight for a lab reason: ${bare}`);
    for (const h of hosts) {
      this.onHost(h, [
        "sh",
        "-c",
        "mount -t tmpfs -o size=64k,mode=755 edgefleet-it-cgroup /sys/fs/cgroup && " +
          "echo 'cpuset cpu io memory hugetlb pids' >/sys/fs/cgroup/cgroup.controllers",
      ]);
    }
    return bare;
  }
}

/** True when this process or one of its ancestors has the lab lock file open (`flock` around the run). */
function lockHeldByAncestor(): boolean {
  let pid = process.pid;
  while (pid > 1) {
    try {
      for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        try {
          if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === LAB_LOCK) return true;
        } catch {
          // fd closed meanwhile
        }
      }
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      return false;
    }
  }
  return false;
}

/** Holds the lab lock through a `flock` child until release(); its stdin closing (our exit) releases it too. */
async function takeLabLock(): Promise<{ release: () => void }> {
  if (lockHeldByAncestor()) return { release: () => undefined };
  const holder: ChildProcess = spawn("flock", [LAB_LOCK, "sh", "-c", "echo locked; read _"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    holder.on("error", reject);
    holder.on("exit", (code) => reject(new Error(`flock ${LAB_LOCK} exited with ${code}`)));
    holder.stdout!.on("data", (d: Buffer) => {
      if (d.toString().includes("locked")) resolve();
    });
  });
  return { release: () => holder.stdin!.end() };
}
