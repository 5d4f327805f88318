/**
 * scripts/stale-plugins.sh against stand-ins for plugins: processes whose
 * command line looks like a Pulumi plugin's (a pulumi-resource-* argument,
 * the engine's address last), started in this checkout.
 */
import { spawn, spawnSync, type ChildProcess } from "child_process";
import * as crypto from "crypto";
import * as net from "net";
import * as path from "path";

const repo = path.resolve(__dirname, "..", "..", "..");
const backend = `file:///nonexistent/edgefleet-stale-${crypto.randomBytes(4).toString("hex")}`;
const started: ChildProcess[] = [];

/** A stand-in plugin: `bash -c "sleep 60; true" pulumi-resource-fake <engine>` (not exec-ed into sleep), in its own process group. */
function plugin(
  engine: string,
  env: NodeJS.ProcessEnv = { ...process.env, PULUMI_BACKEND_URL: backend },
): ChildProcess {
  const p = spawn("bash", ["-c", "sleep 60; true", "pulumi-resource-fake", engine], {
    cwd: repo,
    env,
    detached: true,
    stdio: "ignore",
  });
  started.push(p);
  return p;
}

function stale(...args: string[]): string[] {
  const r = spawnSync("bash", ["scripts/stale-plugins.sh", ...args], {
    cwd: repo,
    env: { ...process.env, PULUMI_BACKEND_URL: backend },
    encoding: "utf8",
  });
  expect([r.status, r.stderr]).toEqual([0, ""]);
  return r.stdout.split("\n").filter(Boolean);
}

const alive = (p: ChildProcess) => {
  try {
    process.kill(p.pid!, 0);
    return true;
  } catch {
    return false;
  }
};

afterAll(() => {
  for (const p of started) if (alive(p)) process.kill(-p.pid!, "SIGKILL");
});

describe("scripts/stale-plugins.sh", () => {
  it("lists only this backend's plugins whose engine is gone, and --kill ends their process groups", async () => {
    const server = net.createServer().listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const live = (server.address() as net.AddressInfo).port;
    // A port nothing listens on: taken, then released.
    const dead = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    try {
      const orphan = plugin(`127.0.0.1:${dead}`);
      const running = plugin(`127.0.0.1:${live}`);
      const otherBackend = plugin(`127.0.0.1:${dead}`, { ...process.env, PULUMI_BACKEND_URL: "file:///elsewhere" });
      await new Promise((r) => setTimeout(r, 300));

      const listed = stale();
      expect(listed).toEqual([
        `${orphan.pid} ${orphan.pid} bash -c sleep 60; true pulumi-resource-fake 127.0.0.1:${dead}`,
      ]);

      stale("--kill");
      await new Promise((r) => setTimeout(r, 300));
      expect([alive(orphan), alive(running), alive(otherBackend)]).toEqual([false, true, true]);
      expect(stale()).toEqual([]);
    } finally {
      server.close();
    }
  });
});
