/**
 * The factory profile's tracker mounts /var/lib/industrial-iot (hostPath,
 * type Directory) as UID 65532: the K3s install makes that directory on the
 * agents of factory sites. Checked at three levels: what the renderer gives
 * for each profile, what K3sCluster passes to each host's install step (Pulumi
 * mocks), and what install.sh/uninstall.sh do with it in a throwaway ROOT.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROFILE_NAMES, getProfile, type ProfileName } from "../../../config/profiles";
import { TRACKER_UID } from "../../../components/render/tracker";
import { K3sCluster } from "../../../infra/k3sCluster";
import { renderHostDirectories, workloadHostDirectories } from "../../../infra/render/hostDirs";
import { clusterArgs, clusterHost, installClusterMocks } from "./clusterMocks";

const FACTORY_DIRS = `0750 ${TRACKER_UID}:${TRACKER_UID} /var/lib/industrial-iot\n`;

describe("workloadHostDirectories", () => {
  it("gives factory sites the tracker's SQLite directory, owned by the tracker, 0750", () => {
    expect(getProfile("factoryIiot").extras.sqliteHostPath).toBe("/var/lib/industrial-iot");
    expect(workloadHostDirectories("factoryIiot")).toEqual([
      { path: "/var/lib/industrial-iot", uid: 65532, gid: 65532, mode: "0750" },
    ]);
    expect(renderHostDirectories(workloadHostDirectories("factoryIiot"))).toBe(FACTORY_DIRS);
  });

  it("gives every other profile nothing", () => {
    for (const p of PROFILE_NAMES.filter((n) => n !== "factoryIiot")) {
      expect([p, workloadHostDirectories(p)]).toEqual([p, []]);
    }
    expect(renderHostDirectories([])).toBe("");
  });

  it("refuses an unknown profile and paths or modes install.sh could misread", () => {
    expect(() => workloadHostDirectories("factory" as ProfileName)).toThrow(/unknown site profile "factory"/);
    const d = { path: "/var/lib/x", uid: 1, gid: 1, mode: "0750" };
    for (const p of ["var/lib/x", "/var/lib/../etc", "/var/lib/a b", "/", "/var/lib/x\n0777 0:0 /etc"]) {
      expect(() => renderHostDirectories([{ ...d, path: p }])).toThrow(/must be an absolute path of plain names/);
    }
    expect(() => renderHostDirectories([{ ...d, mode: "750x" }])).toThrow(/not octal/);
    expect(() => renderHostDirectories([{ ...d, uid: -1 }])).toThrow(/non-negative integers/);
  });
});

// ---------------------------------------------------------------------------

const { registered, settle } = installClusterMocks();

function cluster(name: string, profile: ProfileName): void {
  const hosts = (["server", "agent", "agent"] as const).map((role, i) => clusterHost(`${name}-h${i}`, i, role));
  new K3sCluster(name, clusterArgs(name, hosts, { profile, agentBatchSize: 2 }));
}

/** HOST_DIRS of each host's install step, by resource name; absent = the key is not set. */
function hostDirsOf(site: string): Record<string, unknown> {
  return Object.fromEntries(
    registered
      .filter((r) => r.name.startsWith(`${site}-`) && r.name.endsWith("-install"))
      .map((r) => [r.name, (r.inputs.environment as Record<string, string>).HOST_DIRS]),
  );
}

describe("K3sCluster: workload directories", () => {
  it("asks the install of a factory site's agents, not its server, for the SQLite directory", async () => {
    cluster("plant", "factoryIiot");
    await settle();
    expect(hostDirsOf("plant")).toEqual({
      "plant-plant-h0-install": undefined,
      "plant-plant-h1-install": FACTORY_DIRS,
      "plant-plant-h2-install": FACTORY_DIRS,
    });
  }, 60_000);

  it("sets no HOST_DIRS for other profiles, so their install steps' inputs are as before", async () => {
    cluster("hub", "logisticsHub");
    await settle();
    const dirs = hostDirsOf("hub");
    expect(Object.keys(dirs)).toHaveLength(3);
    for (const [name, v] of Object.entries(dirs)) expect([name, v]).toEqual([name, undefined]);
  }, 60_000);
});

// ---------------------------------------------------------------------------

const scripts = path.join(__dirname, "../../../infra/scripts");
const sha = (p: string) => crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex");

interface Run {
  status: number | null;
  out: string;
  err: string;
}
function run(script: string, env: Record<string, string>): Run {
  const r = spawnSync("bash", [path.join(scripts, script)], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    encoding: "utf8",
  });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

describe("install.sh and uninstall.sh with HOST_DIRS (throwaway ROOT)", () => {
  let root: string;
  let env: Record<string, string>;
  const dir = () => path.join(root, "var/lib/industrial-iot");
  const owner = () => {
    const st = fs.statSync(dir());
    return `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`;
  };

  beforeEach(() => {
    // chown to the tracker's UID needs root, as on a real host.
    if (process.getuid?.() !== 0) throw new Error("these install.sh checks chown to UID 65532: run them as root");
    root = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-root-"));
    const stage = path.join(root, "var/lib/edgefleet/staging");
    fs.mkdirSync(stage, { recursive: true });
    fs.mkdirSync(path.join(root, "usr/local/bin"), { recursive: true });
    fs.writeFileSync(path.join(stage, "k3s"), "#!/bin/sh\necho k3s\n");
    fs.writeFileSync(path.join(stage, "images.tar.zst"), "images\n");
    env = {
      ROOT: root,
      HOST_NAME: "plant-a1",
      K3S_SHA256: sha(path.join(stage, "k3s")),
      IMAGES_FILE: "images.tar.zst",
      IMAGES_SHA256: sha(path.join(stage, "images.tar.zst")),
      HOST_DIRS: FACTORY_DIRS,
    };
  });

  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it("creates the directory owned by the tracker, mode 0750, and reports it; a re-run changes nothing", () => {
    const first = run("install.sh", env);
    expect(first).toEqual({
      status: 0,
      err: "",
      out: 'EDGEFLEET_RESULT {"script":"install","host":"plant-a1","changed":true,"k3s":"installed","images":"installed","wasmShim":"absent","hostDirs":"changed"}',
    });
    expect(owner()).toBe("65532:65532 750");
    expect(fs.readFileSync(path.join(root, "var/lib/edgefleet/host-dirs"), "utf8")).toBe("/var/lib/industrial-iot\n");

    const again = run("install.sh", env);
    expect(again.status).toBe(0);
    expect(again.out).toContain('"changed":false');
    expect(again.out).toContain('"hostDirs":"unchanged"');
    expect(fs.readFileSync(path.join(root, "var/lib/edgefleet/host-dirs"), "utf8")).toBe("/var/lib/industrial-iot\n");
  });

  it("corrects owner and mode of an existing directory and leaves its content alone", () => {
    fs.mkdirSync(dir(), { recursive: true, mode: 0o777 });
    fs.chmodSync(dir(), 0o777);
    fs.writeFileSync(path.join(dir(), "industrial-iot.db"), "data");
    expect(run("install.sh", env).out).toContain('"hostDirs":"changed"');
    expect(owner()).toBe("65532:65532 750");
    expect(fs.readFileSync(path.join(dir(), "industrial-iot.db"), "utf8")).toBe("data");
  });

  it("refuses a malformed HOST_DIRS line before installing anything", () => {
    const r = run("install.sh", { ...env, HOST_DIRS: "0750 65532:65532 /var/lib/../../etc\n" });
    expect(r.status).toBe(1);
    expect(r.err).toBe("install failed on plant-a1: HOST_DIRS path '/var/lib/../../etc' is not a plain absolute path");
    expect(fs.existsSync(path.join(root, "usr/local/bin/k3s"))).toBe(false);
    const r2 = run("install.sh", { ...env, HOST_DIRS: "rwx 0:0 /srv" });
    expect(r2.err).toBe(
      "install failed on plant-a1: HOST_DIRS line 'rwx 0:0 /srv' is not '<mode> <uid>:<gid> <absolute path>'",
    );
  });

  it("refuses to take over a symlink or file at the path, before installing anything", () => {
    fs.mkdirSync(path.dirname(dir()), { recursive: true });
    fs.symlinkSync("/etc", dir());
    const r = run("install.sh", env);
    expect(r.status).toBe(1);
    expect(r.err).toBe(
      "install failed on plant-a1: /var/lib/industrial-iot exists and is not a directory; move it away so that /var/lib/industrial-iot can be created",
    );
    expect(fs.existsSync(path.join(root, "usr/local/bin/k3s"))).toBe(false);
    fs.unlinkSync(dir());
    fs.writeFileSync(dir(), "");
    expect(run("install.sh", env).err).toContain("/var/lib/industrial-iot exists and is not a directory");
  });

  it("uninstall removes the directory with the rest", () => {
    expect(run("install.sh", env).status).toBe(0);
    fs.writeFileSync(path.join(dir(), "industrial-iot.db"), "data");
    const r = run("uninstall.sh", { ROOT: root, HOST_NAME: "plant-a1" });
    expect(r.status).toBe(0);
    expect(fs.existsSync(dir())).toBe(false);
    expect(fs.existsSync(path.join(root, "var/lib/edgefleet"))).toBe(false);
    expect(fs.existsSync(path.join(root, "usr/local/bin/k3s"))).toBe(false);
  });
});
