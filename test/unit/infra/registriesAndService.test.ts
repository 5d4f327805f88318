import { parse } from "yaml";
import { renderRegistries } from "../../../infra/render/registries";
import { renderEnvFile, renderSupervisor, renderSystemdUnit, serviceName } from "../../../infra/render/service";

describe("renderRegistries", () => {
  it("renders mirrors and configs in the K3s registries.yaml shape, sorted", () => {
    const text = renderRegistries({
      mirrors: {
        "registry.k8s.io": { endpoints: ["https://mirror.site.local:5000"] },
        "docker.io": {
          endpoints: ["https://mirror.site.local:5000", "https://backup.site.local"],
          rewrite: { "^rancher/(.*)": "edge/rancher/$1" },
        },
      },
      configs: { "mirror.site.local:5000": { tls: { caFile: "/etc/ssl/site-ca.pem" } } },
    });
    const doc = parse(text);
    expect(Object.keys(doc.mirrors)).toEqual(["docker.io", "registry.k8s.io"]);
    expect(doc.mirrors["docker.io"]).toEqual({
      endpoint: ["https://mirror.site.local:5000", "https://backup.site.local"],
      rewrite: { "^rancher/(.*)": "edge/rancher/$1" },
    });
    expect(doc.configs["mirror.site.local:5000"]).toEqual({ tls: { ca_file: "/etc/ssl/site-ca.pem" } });
  });

  it("rejects non-URLs and mirrors without endpoints", () => {
    expect(() => renderRegistries({ mirrors: { "docker.io": { endpoints: ["mirror:5000"] } } })).toThrow(
      /not an http\(s\) URL/,
    );
    expect(() => renderRegistries({ mirrors: { "docker.io": { endpoints: [] } } })).toThrow(/at least one endpoint/);
  });
});

describe("systemd unit and env file", () => {
  it("names units like install.sh and keeps the command line flag-free", () => {
    expect(serviceName("server")).toBe("k3s");
    expect(serviceName("agent")).toBe("k3s-agent");
    const unit = renderSystemdUnit({ role: "agent" });
    expect(unit).toContain("ExecStart=/usr/local/bin/k3s agent\n");
    expect(unit).toContain("EnvironmentFile=-/etc/systemd/system/k3s-agent.service.env");
    expect(unit).toContain("Type=notify");
    expect(unit).toContain("KillMode=process");
    expect(unit).toContain("Delegate=yes");
    expect(unit).not.toMatch(/--token|K3S_TOKEN/);
  });

  it("writes sorted K3s variables and refuses the token and unsafe values", () => {
    expect(
      renderEnvFile({
        K3S_NODE_NAME: "a1",
        HTTPS_PROXY: "http://proxy:3128",
        CONTAINERD_HTTP_PROXY: "http://proxy:3128",
      }),
    ).toBe(
      "# Managed by Edgefleet (Pulumi). Mode 0600.\nCONTAINERD_HTTP_PROXY=http://proxy:3128\nHTTPS_PROXY=http://proxy:3128\nK3S_NODE_NAME=a1\n",
    );
    expect(() => renderEnvFile({ K3S_TOKEN: "x" })).toThrow(/token file/);
    expect(() => renderEnvFile({ PATH: "/bin" })).toThrow(/not a K3S_\*/);
    expect(() => renderEnvFile({ K3S_X: "a b" })).toThrow(/characters outside/);
    expect(() => renderEnvFile({ K3S_X: "$(reboot)" })).toThrow(/characters outside/);
  });
});

describe("renderSupervisor", () => {
  it("runs k3s for the role with the given paths and refuses odd paths", () => {
    const s = renderSupervisor({
      role: "server",
      binDir: "/opt/bin",
      logFile: "/var/log/k3s.log",
      pidFile: "/run/k3s-supervise.pid",
    });
    expect(s).toMatch(/^#!\/usr\/bin\/env bash\n/);
    expect(s).toContain('/opt/bin/k3s server </dev/null >>"$log" 2>&1 &');
    expect(s).toContain("pidfile=/run/k3s-supervise.pid");
    expect(s).toContain(". /etc/rancher/k3s/k3s.env");
    expect(s).toContain("export PATH=/opt/bin:/usr/local/sbin:/usr/local/bin:");
    expect(() => renderSupervisor({ role: "agent", logFile: "/var/log/k3s log" })).toThrow(/absolute path/);
    expect(() => renderSupervisor({ role: "agent", restartDelaySeconds: 0 })).toThrow(/positive integer/);
  });
});
