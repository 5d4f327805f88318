/**
 * Runs the host-script tests in test/shell (real bash against a throwaway
 * ROOT, never this machine's /etc or /usr) with artifacts produced by the real
 * renderers, so a renderer change that breaks a script fails here.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderK3sConfig, renderKubeletSysctls } from "../../../infra/render/k3sConfig";
import { renderRegistries } from "../../../infra/render/registries";
import { renderEnvFile, renderSupervisor, renderSystemdUnit } from "../../../infra/render/service";

const shellDir = path.join(__dirname, "../../shell");
const tests = fs
  .readdirSync(shellDir)
  .filter((f) => f.endsWith(".test.sh"))
  .sort();

let rendered: string;

beforeAll(() => {
  rendered = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-rendered-"));
  const write = (name: string, text: string) => fs.writeFileSync(path.join(rendered, name), text);
  const server = {
    role: "server",
    nodeName: "edge-s1",
    site: "test-site",
    profile: "retailCity",
    size: "2c4g",
    runsTrackers: false,
    wasm: true,
    clusterInit: true,
  } as const;
  write(
    "config-agent.yaml",
    renderK3sConfig({
      role: "agent",
      nodeName: "edge-a1",
      site: "test-site",
      profile: "retailCity",
      size: "2c4g",
      runsTrackers: true,
      wasm: true,
      serverUrl: "https://10.0.0.10:6443",
    }),
  );
  write("config-server.yaml", renderK3sConfig(server));
  write(
    "config-server-s3.yaml",
    renderK3sConfig({
      ...server,
      etcdSnapshots: {
        scheduleCron: "0 */6 * * *",
        retention: 7,
        s3: { endpoint: "minio.test-site.local:9000", bucket: "edge-snapshots", folder: "cn-east/test-site" },
      },
    }),
  );
  write(
    "registries.yaml",
    renderRegistries({ mirrors: { "docker.io": { endpoints: ["https://mirror.test-site.local:5000"] } } }),
  );
  write("sysctl.conf", renderKubeletSysctls());
  write("unit-server", renderSystemdUnit({ role: "server" }));
  write("env", renderEnvFile({ K3S_NODE_NAME: "edge-s1" }));
  // "/__ROOT__" is replaced by each test's throwaway root.
  write(
    "supervisor-server",
    renderSupervisor({
      role: "server",
      binDir: "/__ROOT__/usr/local/bin",
      envFile: "/__ROOT__/etc/rancher/k3s/k3s.env",
      logFile: "/__ROOT__/var/log/k3s.log",
      pidFile: "/__ROOT__/run/k3s-supervise.pid",
      restartDelaySeconds: 1,
    }),
  );
});

afterAll(() => fs.rmSync(rendered, { recursive: true, force: true }));

describe("host scripts in a throwaway root", () => {
  it("has tests to run", () => {
    expect(tests.length).toBeGreaterThanOrEqual(5);
  });

  it.each(tests)(
    "%s",
    (file) => {
      let out = "";
      try {
        out = execFileSync("bash", [path.join(shellDir, file)], {
          env: { ...process.env, EDGEFLEET_RENDERED: rendered },
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
          timeout: 120_000,
        });
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string; status?: number };
        throw new Error(`${file} failed (status ${err.status}):\n${err.stdout ?? ""}\n${err.stderr ?? ""}`);
      }
      expect(out).toMatch(new RegExp(`^ok ${file.replace(/\./g, "\\.")}: [1-9]\\d* cases$`, "m"));
    },
    130_000,
  );
});
