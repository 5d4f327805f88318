import { parse } from "yaml";
import {
  DEFAULT_AGENT_TOKEN_FILE,
  DEFAULT_TOKEN_FILE,
  kubeletArgs,
  renderK3sConfig,
  renderKubeletSysctls,
  type K3sConfigArgs,
} from "../../../infra/render/k3sConfig";
import { resolveSize } from "../../../infra/render/size";
import { SIZE_CLASSES } from "../../../config/sizeClasses";

const firstServer: K3sConfigArgs = {
  role: "server",
  nodeName: "retail-s1",
  site: "shanghai-01",
  profile: "retailCity",
  size: "2c4g",
  runsTrackers: false,
  wasm: true,
  clusterInit: true,
  tlsSan: ["10.0.0.10", "api.shanghai-01.edge"],
};

const agent: K3sConfigArgs = {
  role: "agent",
  nodeName: "retail-a1",
  site: "shanghai-01",
  profile: "retailCity",
  size: "4c8g",
  runsTrackers: true,
  wasm: true,
  serverUrl: "https://10.0.0.10:6443",
  labels: { zone: "store-12" },
  taints: [{ key: "edgefleet.dev/dedicated", value: "pos", effect: "NoSchedule" }],
};

describe("renderK3sConfig", () => {
  it("renders the first HA server with cluster-init, retail disables, runtimes off for Wasm, and no token value", () => {
    const text = renderK3sConfig(firstServer);
    expect(text).toBe(
      [
        "# Managed by Edgefleet (Pulumi). Local edits are overwritten.",
        `token-file: "${DEFAULT_TOKEN_FILE}"`,
        `agent-token-file: "${DEFAULT_AGENT_TOKEN_FILE}"`,
        "cluster-init: true",
        'node-name: "retail-s1"',
        "node-label:",
        '  - "edgefleet.dev/profile=retailCity"',
        '  - "edgefleet.dev/site=shanghai-01"',
        '  - "edgefleet.dev/wasm=true"',
        "kubelet-arg:",
        '  - "eviction-hard=memory.available<200Mi,nodefs.available<10%,imagefs.available<15%,nodefs.inodesFree<5%"',
        '  - "kube-reserved=cpu=250m,memory=512Mi"',
        '  - "system-reserved=cpu=100m,memory=256Mi"',
        "protect-kernel-defaults: true",
        "disable:",
        '  - "runtimes"',
        '  - "servicelb"',
        '  - "traefik"',
        "tls-san:",
        '  - "10.0.0.10"',
        '  - "api.shanghai-01.edge"',
        'write-kubeconfig-mode: "0600"',
        "secrets-encryption: true",
        "",
      ].join("\n"),
    );
    expect(text).not.toMatch(/^token:/m);
    expect(text).not.toMatch(/^agent-token:/m);
  });

  it("names the agent token's file on every server and never on an agent (k3s agent has no such flag)", () => {
    const joining = parse(renderK3sConfig({ ...firstServer, clusterInit: false, serverUrl: "https://10.0.0.10:6443" }));
    expect(joining["agent-token-file"]).toBe(DEFAULT_AGENT_TOKEN_FILE);
    expect(parse(renderK3sConfig({ ...firstServer, disableAgent: true }))["agent-token-file"]).toBe(
      DEFAULT_AGENT_TOKEN_FILE,
    );
    expect(parse(renderK3sConfig(agent))["agent-token-file"]).toBeUndefined();
    expect(parse(renderK3sConfig({ ...firstServer, agentTokenFile: "/etc/k3s/agent" }))["agent-token-file"]).toBe(
      "/etc/k3s/agent",
    );
  });

  it("keeps write-kubeconfig-mode a string a YAML 1.1 parser cannot read as octal", () => {
    const doc = parse(renderK3sConfig(firstServer), { version: "1.1" });
    expect(doc["write-kubeconfig-mode"]).toBe("0600");
    expect(doc["cluster-init"]).toBe(true);
  });

  it("renders an agent with node-type=edge, its size class's kubelet reservations and only agent flags", () => {
    const doc = parse(renderK3sConfig(agent));
    expect(Object.keys(doc)).toEqual([
      "token-file",
      "server",
      "node-name",
      "node-label",
      "node-taint",
      "kubelet-arg",
      "protect-kernel-defaults",
    ]);
    expect(doc["server"]).toBe("https://10.0.0.10:6443");
    expect(doc["node-label"]).toEqual([
      "edgefleet.dev/profile=retailCity",
      "edgefleet.dev/site=shanghai-01",
      "edgefleet.dev/wasm=true",
      "node-type=edge",
      "zone=store-12",
    ]);
    expect(doc["node-taint"]).toEqual(["edgefleet.dev/dedicated=pos:NoSchedule"]);
    const c = SIZE_CLASSES["4c8g"];
    expect(doc["kubelet-arg"]).toContain(
      `kube-reserved=cpu=${c.kubeReserved.cpuMillis}m,memory=${c.kubeReserved.memoryMiB}Mi`,
    );
    expect(doc["kubelet-arg"]).toContain(
      `system-reserved=cpu=${c.systemReserved.cpuMillis}m,memory=${c.systemReserved.memoryMiB}Mi`,
    );
    expect(doc["kubelet-arg"][0]).toMatch(new RegExp(`^eviction-hard=memory.available<${c.evictionHardMemoryMiB}Mi,`));
  });

  it("labels a server that runs trackers (a site without agents) node-type=edge, with no taint of its own", () => {
    const doc = parse(renderK3sConfig({ ...firstServer, runsTrackers: true }));
    expect(doc["node-label"]).toContain("node-type=edge");
    expect(doc["node-taint"]).toBeUndefined();
    expect(parse(renderK3sConfig(firstServer))["node-label"]).not.toContain("node-type=edge");
  });

  it("is byte-identical across renders and independent of inventory order", () => {
    const shuffled: K3sConfigArgs = {
      ...firstServer,
      tlsSan: ["api.shanghai-01.edge", "10.0.0.10", "10.0.0.10"],
      disable: ["traefik"],
    };
    expect(renderK3sConfig(shuffled)).toBe(renderK3sConfig(firstServer));
    const a2: K3sConfigArgs = {
      ...agent,
      labels: { zone: "store-12", a: "b" },
      taints: [
        { key: "z", effect: "NoExecute" },
        { key: "edgefleet.dev/dedicated", value: "pos", effect: "NoSchedule" },
      ],
    };
    const a3: K3sConfigArgs = { ...a2, labels: { a: "b", zone: "store-12" }, taints: [...a2.taints!].reverse() };
    expect(renderK3sConfig(a3)).toBe(renderK3sConfig(a2));
  });

  it("joins further servers by URL, without cluster-init", () => {
    const doc = parse(
      renderK3sConfig({
        ...firstServer,
        nodeName: "retail-s2",
        clusterInit: false,
        serverUrl: "https://10.0.0.10:6443",
      }),
    );
    expect(doc["server"]).toBe("https://10.0.0.10:6443");
    expect(doc["cluster-init"]).toBeUndefined();
  });

  it("drops kubelet settings on a control-plane-only server (the lab's servers)", () => {
    const doc = parse(renderK3sConfig({ ...firstServer, disableAgent: true }));
    expect(doc["disable-agent"]).toBe(true);
    expect(doc["node-label"]).toBeUndefined();
    expect(doc["kubelet-arg"]).toBeUndefined();
    expect(doc["disable"]).toEqual(["runtimes", "servicelb", "traefik"]);
  });

  it("leaves runtimes and the Wasm label out when Wasm is off, and disables nothing for a non-retail profile", () => {
    const doc = parse(renderK3sConfig({ ...firstServer, profile: "factoryIiot", wasm: false }));
    expect(doc["disable"]).toBeUndefined();
    expect(doc["node-label"]).not.toContain("edgefleet.dev/wasm=true");
  });

  it("honours secretsEncryption and protectKernelDefaults switches", () => {
    const doc = parse(renderK3sConfig({ ...firstServer, secretsEncryption: false, protectKernelDefaults: false }));
    expect(doc["secrets-encryption"]).toBeUndefined();
    expect(doc["protect-kernel-defaults"]).toBeUndefined();
  });

  it.each<[string, Partial<K3sConfigArgs>, RegExp]>([
    ["agent without server", { serverUrl: undefined }, /an agent needs serverUrl/],
    [
      "agent with cluster-init",
      { clusterInit: true },
      /clusterInit apply to servers only; k3s agent refuses unknown flags/,
    ],
    ["agent with tls-san", { tlsSan: ["x"] }, /tlsSan apply to servers only/],
    ["agent with disable", { disable: ["traefik"] }, /disable apply to servers only/],
    ["http server url", { serverUrl: "http://10.0.0.10:6443" }, /serverUrl must look like https/],
    ["reserved label", { labels: { "node-role.kubernetes.io/worker": "true" } }, /Kubernetes-reserved namespace/],
    ["overriding our label", { labels: { "edgefleet.dev/site": "other" } }, /set by Edgefleet/],
    ["setting the edge label", { labels: { "node-type": "edge" } }, /set by Edgefleet/],
    ["bad label value", { labels: { zone: "has space" } }, /not a valid label value/],
    ["bad node name", { nodeName: "Retail_A1" }, /lowercase DNS label/],
    ["relative token file", { tokenFile: "token" }, /absolute path/],
    [
      "an agent token file on an agent",
      { agentTokenFile: "/etc/rancher/k3s/a" },
      /agentTokenFile apply to servers only/,
    ],
  ])("refuses %s", (_name, patch, msg) => {
    expect(() => renderK3sConfig({ ...agent, ...patch })).toThrow(msg);
  });

  it("refuses one file for both tokens, and a relative agent token file", () => {
    expect(() => renderK3sConfig({ ...firstServer, agentTokenFile: DEFAULT_TOKEN_FILE })).toThrow(
      /tokenFile and agentTokenFile must be different files/,
    );
    expect(() => renderK3sConfig({ ...firstServer, agentTokenFile: "agent" })).toThrow(
      /the agent token file must be an absolute path/,
    );
  });

  it("refuses cluster-init together with a server URL", () => {
    expect(() => renderK3sConfig({ ...firstServer, serverUrl: "https://10.0.0.11:6443" })).toThrow(
      /mutually exclusive/,
    );
  });

  it("accepts the topology labels a kubelet may set on itself", () => {
    const doc = parse(renderK3sConfig({ ...agent, labels: { "topology.kubernetes.io/zone": "dock-a" } }));
    expect(doc["node-label"]).toContain("topology.kubernetes.io/zone=dock-a");
  });

  it("accepts kubelet-allowed kubernetes.io label namespaces", () => {
    const doc = parse(renderK3sConfig({ ...agent, labels: { "node.kubernetes.io/instance-type": "ipc-2c4g" } }));
    expect(doc["node-label"]).toContain("node.kubernetes.io/instance-type=ipc-2c4g");
  });
});

describe("kubeletArgs and sizes", () => {
  it("gives an explicit size the reservations of the largest class it holds", () => {
    expect(resolveSize({ cpuMillis: 8000, memoryMiB: 16384 }).kubeReserved).toEqual(SIZE_CLASSES["4c8g"].kubeReserved);
    expect(resolveSize({ cpuMillis: 1000, memoryMiB: 2048 }).kubeReserved).toEqual(SIZE_CLASSES["2c4g"].kubeReserved);
    expect(resolveSize({ cpuMillis: 1000, memoryMiB: 2048 }).capacity).toEqual({ cpuMillis: 1000, memoryMiB: 2048 });
    expect(kubeletArgs({ cpuMillis: 4000, memoryMiB: 8192 })).toEqual(kubeletArgs("4c8g"));
  });

  it("rejects nonsense sizes", () => {
    expect(() => resolveSize({ cpuMillis: 0, memoryMiB: 1 })).toThrow(/positive integer/);
    expect(() => resolveSize("8c16g" as never)).toThrow(/unknown size class/);
  });

  it("lists every sysctl the kubelet enforces with protect-kernel-defaults", () => {
    const s = renderKubeletSysctls();
    for (const k of ["vm.overcommit_memory=1", "vm.panic_on_oom=0", "kernel.panic=10", "kernel.panic_on_oops=1"]) {
      expect(s).toContain(k);
    }
  });
});
