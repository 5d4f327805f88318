import { gatekeeperPolicies } from "../../../config/siteLayer";
import { siteResolveArgs } from "../../../config/siteModel";
import { THRESHOLDS } from "../../../policies/thresholds";
import { policyConfig } from "../../../scripts/inventory/policy-config";
import { ConfigError, validate } from "../../../config/validate";
import { resolveSite } from "../../../components/render/site";
import { SECRET_KEYS, fakeHostKey, problemsOf, validConfig } from "./helpers";

type Json = Record<string, unknown>;
type Site = Json & { hosts: Json[]; overrides?: Json };

const sites = (c: Json) => c["edgefleet:sites"] as Site[];

function expectProblem(cfg: Json, path: string, text: RegExp, secretKeys?: ReadonlySet<string>): void {
  const ps = problemsOf(cfg, secretKeys);
  const hit = ps.filter((p) => p.startsWith(`${path}: `));
  expect({ path, hit: hit.some((p) => text.test(p)), all: ps }).toEqual(expect.objectContaining({ path, hit: true }));
}

describe("validate: the passing base", () => {
  it("accepts the base config and normalizes it", () => {
    const spec = validate("test-stack", validConfig(), SECRET_KEYS);
    expect(spec.stack).toBe("test-stack");
    expect(spec.region).toBe("cn-east");
    expect(spec.sites.map((s) => s.name)).toEqual(["hub-a", "hub-b"]);
    const [a, b] = spec.sites;
    expect(a.serviceMode).toBe("systemd");
    expect(a.disableAgentOnServers).toBe(false);
    // Host SSH settings fall back to the stack's.
    expect(a.hosts[0]).toMatchObject({
      port: 22,
      user: "edgefleet",
      labels: {},
      taints: [],
    });
    expect(a.hosts[0].size.name).toBe("4c8g");
    // Explicit capacity takes the 4c8g reservations (the largest class it covers).
    expect(b.hosts[1].size).toMatchObject({
      name: "custom",
      class: {
        capacity: { cpuMillis: 8000, memoryMiB: 16384 },
        kubeReserved: { cpuMillis: 400 },
      },
    });
    expect(spec.upgrade.agentBatchSize).toBe(2);
    expect(spec.lab).toBeUndefined();
  });

  it("takes Pulumi's JSON-text values as the engine passes them", () => {
    const cfg = validConfig();
    const asText: Record<string, string> = {};
    for (const [k, v] of Object.entries(cfg)) asText[k] = typeof v === "string" ? v : JSON.stringify(v);
    expect(validate("test-stack", asText, SECRET_KEYS).sites).toHaveLength(2);
  });

  it("parses labels, taints, host port and user overrides", () => {
    const cfg = validConfig();
    Object.assign(sites(cfg)[0].hosts[3], {
      port: 2222,
      user: "ops",
      labels: { "edgefleet.dev/city-tier": "1", "topology.kubernetes.io/zone": "dock-3" },
      taints: ["dedicated=scanner:NoSchedule", "edge.example.com/flaky:PreferNoSchedule"],
    });
    const h = validate("s", cfg, SECRET_KEYS).sites[0].hosts[3];
    expect(h).toMatchObject({
      port: 2222,
      user: "ops",
      labels: { "edgefleet.dev/city-tier": "1" },
    });
    expect(h.taints).toEqual([
      { key: "dedicated", value: "scanner", effect: "NoSchedule" },
      { key: "edge.example.com/flaky", effect: "PreferNoSchedule" },
    ]);
  });
});

describe("validate: one error listing every problem", () => {
  it("names the stack, each key path and a fix, in one ConfigError", () => {
    const cfg = validConfig();
    sites(cfg)[1].hosts[1].address = "198.51.100.300";
    sites(cfg)[0].profile = "harbour";
    (cfg["edgefleet:k3s"] as Json).version = "1.34.2";
    let err: unknown;
    try {
      validate("logistics-hub", cfg, SECRET_KEYS);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    expect(msg).toMatch(/^stack logistics-hub: 3 problems in the edgefleet config; nothing was created\./);
    expect(msg).toContain(
      '[logistics-hub] edgefleet:sites[1].hosts[1].address: "198.51.100.300" is not an IPv4 or IPv6 address',
    );
    expect(msg).toContain('[logistics-hub] edgefleet:sites[0].profile: unknown profile "harbour"');
    expect(msg).toContain("[logistics-hub] edgefleet:k3s.version:");
    expect(msg.match(/ fix: /g)).toHaveLength(3);
  });

  it("reports an unknown key with its path (a typo is not silently ignored)", () => {
    const cfg = validConfig();
    sites(cfg)[0].hosts[0].adress = "192.0.2.99";
    expectProblem(cfg, "edgefleet:sites[0].hosts[0].adress", /unknown key/);
  });

  it("reports a missing required key", () => {
    const cfg = validConfig();
    delete cfg["edgefleet:region"];
    expectProblem(cfg, "edgefleet:region", /is missing \| pulumi config set edgefleet:region <region name/);
  });
});

describe("validate: per-key advice", () => {
  it("asks for the SSH private key as a secret only, whether missing or malformed", () => {
    for (const value of [undefined, 42]) {
      const cfg = validConfig();
      (cfg["edgefleet:ssh"] as Json).privateKey = value;
      const [p] = problemsOf(cfg).filter((x) => x.startsWith("edgefleet:ssh.privateKey: "));
      expect(p).toMatch(
        /\| set it as a secret, never in the stack file: pulumi config set --secret --path 'edgefleet:ssh\.privateKey' < /,
      );
      // No plain `pulumi config set` of the key is ever suggested.
      expect(p).not.toMatch(/pulumi config set --path 'edgefleet:ssh\.privateKey'/);
    }
    const cfg = validConfig();
    delete cfg["edgefleet:ssh"];
    expectProblem(
      cfg,
      "edgefleet:ssh",
      /pulumi config set --path 'edgefleet:ssh\.user'.*pulumi config set --secret --path 'edgefleet:ssh\.privateKey'/,
    );
  });

  it("gives host-key advice for the host's own address and port, whose output the schema accepts", () => {
    const cfg = validConfig();
    delete sites(cfg)[0].hosts[0].hostKey;
    sites(cfg)[0].hosts[1].port = 2222;
    sites(cfg)[0].hosts[1].hostKey = "not a key";
    expectProblem(
      cfg,
      "edgefleet:sites[0].hosts[0].hostKey",
      /is missing \| pin it: pulumi config set --path 'edgefleet:sites\[0\]\.hosts\[0\]\.hostKey' "\$\(ssh-keyscan -t ed25519 192\.0\.2\.11 2>\/dev\/null \| cut -d' ' -f2-\)"/,
    );
    expectProblem(cfg, "edgefleet:sites[0].hosts[1].hostKey", /ssh-keyscan -t ed25519 -p 2222 192\.0\.2\.12 /);
    // ssh-keyscan's own line is named as such; what `cut -d' ' -f2-` leaves of it is accepted.
    const line = `192.0.2.11 ${fakeHostKey("a-s1")}`;
    const again = validConfig();
    sites(again)[0].hosts[0].hostKey = line;
    expectProblem(again, "edgefleet:sites[0].hosts[0].hostKey", /is ssh-keyscan's output line: the host name in front/);
    sites(again)[0].hosts[0].hostKey = line.split(" ").slice(1).join(" ");
    expect(problemsOf(again)).toEqual([]);
  });

  it("says how to pin an artifact's checksum", () => {
    const cfg = validConfig();
    delete (cfg["edgefleet:k3s"] as { artifacts: { images: Json } }).artifacts.images.sha256;
    expectProblem(
      cfg,
      "edgefleet:k3s.artifacts.images.sha256",
      /is missing \| pin the file's checksum: bash scripts\/inventory\/run-ts\.sh scripts\/inventory\/pin-artifacts\.ts .*sha256sum artifacts\/k3s\/k3s-airgap-images-amd64\.tar\.zst/,
    );
  });

  it("says what a missing host field takes", () => {
    const cfg = validConfig();
    delete sites(cfg)[1].hosts[1].role;
    delete sites(cfg)[1].hosts[1].size;
    expectProblem(
      cfg,
      "edgefleet:sites[1].hosts[1].role",
      /pulumi config set --path 'edgefleet:sites\[1\]\.hosts\[1\]\.role' agent/,
    );
    expectProblem(cfg, "edgefleet:sites[1].hosts[1].size", /2c4g/);
  });
});

describe("validate: duplicate host names and addresses within a stack", () => {
  it("fails on a host name used twice, even across sites", () => {
    const cfg = validConfig();
    sites(cfg)[1].hosts[1].name = "a-a1";
    expectProblem(cfg, "edgefleet:sites[1].hosts[1].name", /already used by edgefleet:sites\[0\]\.hosts\[3\]/);
  });
  it("fails on an address used twice", () => {
    const cfg = validConfig();
    sites(cfg)[0].hosts[4].address = "192.0.2.21";
    expectProblem(
      cfg,
      "edgefleet:sites[0].hosts[4].address",
      /192\.0\.2\.21 is already used by edgefleet:sites\[0\]\.hosts\[3\]/,
    );
  });
  it("fails on a site name used twice", () => {
    const cfg = validConfig();
    sites(cfg)[1].name = "hub-a";
    expectProblem(cfg, "edgefleet:sites[1].name", /already used/);
  });
  it("passes with distinct names and addresses", () => {
    expect(problemsOf(validConfig())).toEqual([]);
  });
});

describe("validate: servers", () => {
  it("fails on a site with no server", () => {
    const cfg = validConfig();
    sites(cfg)[1].hosts[0].role = "agent";
    expectProblem(cfg, "edgefleet:sites[1].hosts", /has no server/);
  });
  it("fails on an even number of embedded-etcd servers", () => {
    const cfg = validConfig();
    sites(cfg)[0].hosts[2].role = "agent";
    expectProblem(cfg, "edgefleet:sites[0].hosts", /2 servers.*odd count.*quorum/);
  });
  it("passes one server (sqlite) and three servers (etcd)", () => {
    const spec = validate("s", validConfig(), SECRET_KEYS);
    expect(spec.sites.map((s) => s.hosts.filter((h) => h.role === "server").length)).toEqual([3, 1]);
  });
});

describe("validate: profiles and size classes", () => {
  it("fails on an unknown profile, listing the known ones", () => {
    const cfg = validConfig();
    sites(cfg)[1].profile = "retail";
    expectProblem(
      cfg,
      "edgefleet:sites[1].profile",
      /unknown profile "retail".*logisticsHub, retailCity, supplyChain, edgeGeneral, factoryIiot/,
    );
  });
  it("fails on an unknown size class", () => {
    const cfg = validConfig();
    sites(cfg)[0].hosts[3].size = "8c16g";
    expectProblem(cfg, "edgefleet:sites[0].hosts[3].size", /unknown size class "8c16g"/);
  });
  it("fails on an explicit size with a malformed memory", () => {
    const cfg = validConfig();
    sites(cfg)[0].hosts[3].size = { cpu: 8, memory: "16 gigs" };
    expectProblem(cfg, "edgefleet:sites[0].hosts[3].size.memory", /not a memory size/);
  });
  it("passes named and explicit sizes", () => {
    const cfg = validConfig();
    sites(cfg)[0].hosts[3].size = { cpu: "6000m", memory: "12Gi" };
    expect(validate("s", cfg, SECRET_KEYS).sites[0].hosts[3].size.class.capacity).toEqual({
      cpuMillis: 6000,
      memoryMiB: 12288,
    });
  });
});

describe("validate: tracker requests and limits", () => {
  it("fails when a request is above its limit", () => {
    const cfg = validConfig();
    sites(cfg)[1].overrides = {
      tracker: {
        resources: {
          requests: { cpu: "500m", memory: "512Mi" },
          limits: { cpu: "200m" },
        },
      },
    };
    expectProblem(
      cfg,
      "edgefleet:sites[1].overrides.tracker.resources.requests.cpu",
      /"500m" is above its limit "200m"/,
    );
    // The memory limit is the profile's (retail case: 256Mi).
    expectProblem(
      cfg,
      "edgefleet:sites[1].overrides.tracker.resources.requests.memory",
      /"512Mi" is above its limit "256Mi"/,
    );
  });
  it("passes requests at or below limits", () => {
    const cfg = validConfig();
    sites(cfg)[1].overrides = {
      tracker: {
        resources: {
          requests: { cpu: "200m", memory: "256Mi" },
          limits: { cpu: "200m", memory: "256Mi" },
        },
      },
    };
    expect(problemsOf(cfg)).toEqual([]);
  });
  it("fails on an unpinned image", () => {
    const cfg = validConfig();
    sites(cfg)[1].overrides = {
      tracker: { image: "registry.example.com/logistics-system:latest" },
    };
    expectProblem(cfg, "edgefleet:sites[1].overrides.tracker.image", /is not pinned/);
  });
  it("fails on an image reference the runtime cannot read, saying why", () => {
    const cfg = validConfig();
    sites(cfg)[1].overrides = { tracker: { image: "registry.example.com/Logistics-System:1.4.2" } };
    expectProblem(
      cfg,
      "edgefleet:sites[1].overrides.tracker.image",
      /is not a valid image reference: repository "Logistics-System" must be lower-case/,
    );
  });
  it("passes a Docker Hub name without a registry, as the runtime reads it", () => {
    const cfg = validConfig();
    // Docker Hub's edgefleet/logistics-system, which the stack must allow like any other registry's image.
    cfg["edgefleet:allowedRegistries"] = ["docker.io/edgefleet"];
    sites(cfg)[1].overrides = { tracker: { image: "edgefleet/logistics-system:1.4.2" } };
    expect(validate("s", cfg, SECRET_KEYS).sites[1].overrides.tracker?.image).toBe("edgefleet/logistics-system:1.4.2");
  });
  it("passes a tag or a digest", () => {
    const cfg = validConfig();
    sites(cfg)[1].overrides = {
      tracker: { image: "registry.example.com:5000/logistics-system:1.4.2" },
    };
    sites(cfg)[0].overrides = {
      tracker: {
        image: `registry.example.com/logistics-tracker@sha256:${"f".repeat(64)}`,
      },
    };
    cfg["edgefleet:allowedRegistries"] = ["registry.example.com", "registry.example.com:5000"];
    expect(problemsOf(cfg)).toEqual([]);
  });
});

describe("validate: what the host layer, the site layer and the policies would refuse later", () => {
  it.each([
    ["10.42.7.3", "pod network \\(cluster-cidr\\) 10\\.42\\.0\\.0/16"],
    ["10.43.0.10", "service network \\(service-cidr\\) 10\\.43\\.0\\.0/16"],
  ])("refuses host address %s, inside K3s's own networks", (address, net) => {
    const cfg = validConfig();
    sites(cfg)[1].hosts[1].address = address;
    expectProblem(
      cfg,
      "edgefleet:sites[1].hosts[1].address",
      new RegExp(`lies in K3s's ${net}.*\\| give the host an address outside`),
    );
    sites(cfg)[1].hosts[1].address = "10.44.0.1";
    expect(problemsOf(cfg)).toEqual([]);
  });

  it("refuses labels Edgefleet sets, and label or taint keys the kubelet may not register", () => {
    const cfg = validConfig();
    sites(cfg)[1].hosts[1].labels = { "node-type": "edge", "node-role.kubernetes.io/worker": "true" };
    sites(cfg)[1].hosts[1].taints = ["kubernetes.io/dedicated=x:NoSchedule"];
    expectProblem(cfg, 'edgefleet:sites[1].hosts[1].labels["node-type"]', /is set by Edgefleet itself.*\| remove it/);
    expectProblem(
      cfg,
      'edgefleet:sites[1].hosts[1].labels["node-role.kubernetes.io/worker"]',
      /Kubernetes-reserved namespace/,
    );
    expectProblem(cfg, "edgefleet:sites[1].hosts[1].taints[0]", /Kubernetes-reserved namespace/);
  });

  it("takes a memory size in decimal units as whole MiB, rounded down, as the kubelet reservations are written", () => {
    const cfg = validConfig();
    sites(cfg)[1].hosts[1].size = { cpu: 8, memory: "16G" };
    expect(validate("s", cfg, SECRET_KEYS).sites[1].hosts[1].size.class.capacity.memoryMiB).toBe(15258);
  });

  it("refuses zero tracker replicas, as the renderer would", () => {
    const cfg = validConfig();
    sites(cfg)[1].overrides = { tracker: { replicas: 0 } };
    expectProblem(cfg, "edgefleet:sites[1].overrides.tracker.replicas", /below the minimum 1/);
  });

  it("refuses a limit/request ratio the policies refuse, with requests that pass", () => {
    const cfg = validConfig();
    // The README's example: the factory tracker's CPU request cut to 10m under its 200m limit.
    sites(cfg)[1].overrides = { tracker: { resources: { requests: { cpu: "10m" } } } };
    expectProblem(
      cfg,
      "edgefleet:sites[1].overrides.tracker.resources",
      /limit-ratio policy .* cpu limit 200m is more than 5 x its request 10m \| .*requests of at least 40m cpu/,
    );
    sites(cfg)[1].overrides = { tracker: { resources: { requests: { cpu: "40m" } } } };
    expect(problemsOf(cfg)).toEqual([]);
  });

  it("refuses key material in plain config, and credentials in the remote-write URL", () => {
    const cfg = validConfig();
    sites(cfg)[0].overrides = {
      monitoring: { agentMode: true, remoteWriteUrl: `https://metrics.example.com/write?token=ghp_${"a".repeat(36)}` },
    };
    expectProblem(cfg, "edgefleet:sites[0].overrides.monitoring.remoteWriteUrl", /holds key material.*\| remove it/);
    sites(cfg)[0].overrides = {
      monitoring: { agentMode: true, remoteWriteUrl: "https://u:p@metrics.example.com/write" },
    };
    expectProblem(cfg, "edgefleet:sites[0].overrides.monitoring.remoteWriteUrl", /carries credentials/);
  });
});

describe("validate: allowed registries", () => {
  it("admits the site layer's own images without a setting, and nothing else", () => {
    expect(problemsOf(validConfig())).toEqual([]);
    const cfg = validConfig();
    sites(cfg)[1].overrides = { tracker: { image: "docker.io/library/busybox:1.36" } };
    // On Docker Hub is not enough: the repository is suggested, not all of docker.io.
    expectProblem(
      cfg,
      "edgefleet:sites[1].overrides.tracker.image",
      /"docker\.io\/library\/busybox:1\.36" \(docker\.io\/library\/busybox\) is not from an allowed registry.*\| allow its registry for the stack: pulumi config set --path 'edgefleet:allowedRegistries\[0\]' docker\.io\/library\/busybox/,
    );
    // A short name is Docker Hub's (config/image.ts reads it as the runtime does), and refused the same way.
    sites(cfg)[1].overrides = { tracker: { image: "busybox:1.36" } };
    expectProblem(
      cfg,
      "edgefleet:sites[1].overrides.tracker.image",
      /"busybox:1\.36" \(docker\.io\/library\/busybox\) is not from an allowed registry.*'edgefleet:allowedRegistries\[0\]' docker\.io\/library\/busybox/,
    );
  });

  it("refuses a tracker image outside edgefleet:allowedRegistries, and the fix it gives passes", () => {
    const cfg = validConfig();
    cfg["edgefleet:allowedRegistries"] = ["registry.example.com/edge"];
    sites(cfg)[0].overrides = { tracker: { image: "registry.example.com/logistics-tracker:1.0.0" } };
    expectProblem(
      cfg,
      "edgefleet:sites[0].overrides.tracker.image",
      /not from an allowed registry.*\["registry\.example\.com\/edge"\].*\| allow its registry for the stack: pulumi config set --path 'edgefleet:allowedRegistries\[1\]' registry\.example\.com /,
    );
    (cfg["edgefleet:allowedRegistries"] as string[])[1] = "registry.example.com";
    expect(problemsOf(cfg)).toEqual([]);
    // What both engines get: the setting, not the tracker's registry.
    const spec = validate("test-stack", cfg, SECRET_KEYS);
    expect(spec.allowedRegistries).toEqual(["registry.example.com/edge", "registry.example.com"]);
  });

  it("is all both engines add: not a mirror's registry, not the tracker's", () => {
    const cfg = validConfig();
    cfg["edgefleet:registry"] = { mirrors: { "docker.io": { endpoint: ["https://mirror.example.com"] } } };
    cfg["edgefleet:allowedRegistries"] = ["registry.example.com"];
    sites(cfg)[0].overrides = { tracker: { image: "registry.example.com/logistics-tracker:1.0.0" } };
    const spec = validate("test-stack", cfg, SECRET_KEYS);
    const registries = [...THRESHOLDS.allowedRegistries, "registry.example.com"];
    expect(policyConfig(spec)["allowed-repos"]).toEqual({ extraRegistries: ["registry.example.com"] });
    const constraint = gatekeeperPolicies(spec.sites[0], spec).constraints.find(
      (c) => c.kind === "EdgefleetAllowedRepos",
    );
    expect(constraint?.spec.parameters.registries).toEqual(registries);
    expect(registries).not.toContain("docker.io");
  });

  it("refuses a malformed entry", () => {
    const cfg = validConfig();
    cfg["edgefleet:allowedRegistries"] = ["https://registry.example.com"];
    expectProblem(cfg, "edgefleet:allowedRegistries[0]", /not a registry or registry\/path prefix/);
  });
});

describe("validate: replicas that cannot fit the site", () => {
  /** The replicas validate() advises for `path`, read from its fix. */
  function advice(cfg: Json, path: string): number {
    const hit = problemsOf(cfg).find((p) => p.startsWith(`${path}: `));
    const m = /lower replicas to (\d+) or less/.exec(hit ?? "");
    if (!m) throw new Error(`no replica advice for ${path}: ${JSON.stringify(problemsOf(cfg))}`);
    return Number(m[1]);
  }

  // logisticsHub: 200m/256Mi + the wasmedge overhead per tracker, on the 2 agents of hub-a, beside the platform.
  it("fails when the agents cannot hold the replicas, counting the RuntimeClass overhead and the platform", () => {
    const cfg = validConfig();
    sites(cfg)[0].overrides = { tracker: { replicas: 35 } };
    expectProblem(
      cfg,
      "edgefleet:sites[0].overrides.tracker.replicas",
      /35 trackers x 210m\/280Mi \(requests plus the wasmedge RuntimeClass overhead\).*2 tracker node\(s\).*hold at most \d+ trackers \| lower replicas to \d+ or less \(pulumi config set --path 'edgefleet:sites\[0\]\.overrides\.tracker\.replicas' \d+\)/,
    );
  });

  it.each<[string, (cfg: Json) => void, number]>([
    ["agents next to servers", () => undefined, 0],
    ["a server-only site (trackers on the server)", (cfg) => (sites(cfg)[1].hosts = [sites(cfg)[1].hosts[0]]), 1],
    [
      "a site with a tainted agent",
      (cfg) => {
        sites(cfg)[0].hosts[4].taints = ["dedicated=scanner:NoSchedule"];
      },
      0,
    ],
    [
      "simulated nodes beside a control-plane-only server",
      (cfg) => {
        const site = sites(cfg)[1];
        site.hosts = [site.hosts[0]];
        Object.assign(site, {
          disableAgentOnServers: true,
          distribution: "upstream",
          kwok: { nodes: 3, size: "2c4g" },
        });
        cfg["edgefleet:upstream"] = upstreamConfig();
      },
      1,
    ],
  ])("%s: following the advice passes validate(), and the site layer then builds the site", (_, shape, i) => {
    const cfg = validConfig();
    shape(cfg);
    sites(cfg)[i].overrides = { tracker: { replicas: 500 } };
    const max = advice(cfg, `edgefleet:sites[${i}].overrides.tracker.replicas`);
    expect(max).toBeGreaterThan(0);
    sites(cfg)[i].overrides = { tracker: { replicas: max } };
    const spec = validate("test-stack", cfg, SECRET_KEYS);
    const site = spec.sites[i];
    const resolved = resolveSite(siteResolveArgs(site, `edgefleet:sites[${i}]`));
    expect(resolved.tracker.replicas).toBe(max);
    expect(resolved.capacity.maxTrackerReplicas).toBe(max);
    // One more is refused again: the advice is the exact ceiling.
    sites(cfg)[i].overrides = { tracker: { replicas: max + 1 } };
    expect(advice(cfg, `edgefleet:sites[${i}].overrides.tracker.replicas`)).toBe(max);
  });

  it("refuses a site where no node runs trackers, once, with a fix that makes one", () => {
    const cfg = validConfig();
    sites(cfg)[1].hosts = [sites(cfg)[1].hosts[0]];
    sites(cfg)[1].disableAgentOnServers = true;
    expect(problemsOf(cfg)).toEqual([
      expect.stringMatching(
        /^edgefleet:sites\[1\]\.hosts: site hub-b has no node that runs workloads.*\| add a host with role: agent, or set edgefleet:sites\[1\]\.disableAgentOnServers to false/,
      ),
    ]);
    sites(cfg)[1].disableAgentOnServers = false;
    expect(problemsOf(cfg)).toEqual([]);
  });

  it("refuses trackers that taints keep off every edge node", () => {
    const cfg = validConfig();
    sites(cfg)[1].hosts[1].taints = ["dedicated=pos:NoExecute"];
    expectProblem(
      cfg,
      "edgefleet:sites[1].hosts",
      /no node of site hub-b can take a tracker: b-a1 carry a NoSchedule\/NoExecute taint.*\| remove those taints/,
    );
    sites(cfg)[1].hosts[1].taints = ["dedicated=pos:PreferNoSchedule"];
    expect(problemsOf(cfg)).toEqual([]);
  });

  it("uses overridden requests", () => {
    const cfg = validConfig();
    sites(cfg)[0].overrides = {
      tracker: {
        replicas: 4,
        resources: {
          requests: { cpu: "2", memory: "1Gi" },
          limits: { cpu: "2", memory: "1Gi" },
        },
      },
    };
    // 2010m per pod: one per 4c8g agent (3400m), and the spread keeps it to one each.
    expectProblem(cfg, "edgefleet:sites[0].overrides.tracker.replicas", /hold at most 2 trackers/);
  });

  it("refuses tracker limits above a node's allocatable, with the largest that fits", () => {
    const cfg = validConfig();
    sites(cfg)[1].hosts = [sites(cfg)[1].hosts[0]];
    sites(cfg)[1].overrides = { tracker: { replicas: 1, resources: { limits: { cpu: "2", memory: "256Mi" } } } };
    expectProblem(
      cfg,
      "edgefleet:sites[1].overrides.tracker.resources.limits",
      /above what node b-s1 of site hub-b allocates \(1650m\/3128Mi\) \| lower limits\.cpu to at most 1650m/,
    );
  });
});

describe("validate: K3s version and checksums", () => {
  it.each(["1.34.2+k3s1", "v1.34.2", "v1.34+k3s1", "v1.34.2-k3s1", "latest"])("fails on version %s", (v) => {
    const cfg = validConfig();
    (cfg["edgefleet:k3s"] as Json).version = v;
    expectProblem(cfg, "edgefleet:k3s.version", /is not a K3s release version.*v1\.34\.2\+k3s1/);
  });
  it("passes v1.35.4+k3s2", () => {
    const cfg = validConfig();
    (cfg["edgefleet:k3s"] as Json).version = "v1.35.4+k3s2";
    expect(problemsOf(cfg)).toEqual([]);
  });
  it("fails on a short or upper-case checksum", () => {
    const cfg = validConfig();
    const art = (cfg["edgefleet:k3s"] as { artifacts: Record<string, Json> }).artifacts;
    art.images.sha256 = "abc123";
    art.wasmedgeShim.sha256 = "A".repeat(64);
    expectProblem(cfg, "edgefleet:k3s.artifacts.images.sha256", /is not a sha256 checksum.*sha256sum/);
    expectProblem(cfg, "edgefleet:k3s.artifacts.wasmedgeShim.sha256", /is not a sha256 checksum/);
  });
});

describe("validate: secrets", () => {
  it("fails when the SSH private key is not a secret", () => {
    expectProblem(
      validConfig(),
      "edgefleet:ssh.privateKey",
      /plain text.*pulumi config set --secret --path 'edgefleet:ssh.privateKey'/,
      new Set(),
    );
  });
  it("fails when the SSH private key is missing", () => {
    const cfg = validConfig();
    delete (cfg["edgefleet:ssh"] as Json).privateKey;
    expectProblem(cfg, "edgefleet:ssh.privateKey", /is missing/);
  });
  it("passes when the key is held as a secret", () => {
    expect(problemsOf(validConfig(), new Set(["edgefleet:ssh"]))).toEqual([]);
  });
});

describe("validate: addresses and host keys", () => {
  it.each(["192.0.2.256", "192.0.2", "edge-1.example.com", "::g"])("fails on address %s", (a) => {
    const cfg = validConfig();
    sites(cfg)[0].hosts[0].address = a;
    expectProblem(cfg, "edgefleet:sites[0].hosts[0].address", /is not an IPv4 or IPv6 address/);
  });
  it("passes IPv6", () => {
    const cfg = validConfig();
    sites(cfg)[0].hosts[0].address = "2001:db8::11";
    expect(problemsOf(cfg)).toEqual([]);
  });
  it("fails on a malformed host key and a key whose blob names another type", () => {
    const cfg = validConfig();
    sites(cfg)[0].hosts[0].hostKey = "AAAAC3NzaC1lZDI1NTE5AAAAI";
    sites(cfg)[0].hosts[1].hostKey = fakeHostKey("x").replace("ssh-ed25519", "ssh-rsa");
    expectProblem(
      cfg,
      "edgefleet:sites[0].hosts[0].hostKey",
      /is not an SSH public host key.*ssh-keyscan -t ed25519 192\.0\.2\.11 2>\/dev\/null \| cut -d' ' -f2-/,
    );
    expectProblem(cfg, "edgefleet:sites[0].hosts[1].hostKey", /is not an SSH public host key/);
  });
  it("fails on a bad label key and a malformed taint", () => {
    const cfg = validConfig();
    Object.assign(sites(cfg)[0].hosts[3], {
      labels: { "bad key": "x" },
      taints: ["dedicated=scanner"],
    });
    expectProblem(cfg, 'edgefleet:sites[0].hosts[3].labels["bad key"]', /not a valid Kubernetes label key/);
    expectProblem(cfg, "edgefleet:sites[0].hosts[3].taints[0]", /is not a taint/);
  });
});

describe("validate: overrides", () => {
  it("fails on Prometheus agent mode without a remote-write target", () => {
    const cfg = validConfig();
    sites(cfg)[0].overrides = { monitoring: { agentMode: true } };
    expectProblem(cfg, "edgefleet:sites[0].overrides.monitoring.remoteWriteUrl", /agent mode/);
    sites(cfg)[0].overrides = {
      monitoring: {
        agentMode: true,
        remoteWriteUrl: "https://metrics.example.com/api/v1/write",
      },
    };
    expect(problemsOf(cfg)).toEqual([]);
  });
  it("fails on an unknown Gatekeeper failure policy", () => {
    const cfg = validConfig();
    sites(cfg)[0].overrides = {
      gatekeeper: { failurePolicy: "Warn", replicas: 1 },
    };
    expectProblem(cfg, "edgefleet:sites[0].overrides.gatekeeper.failurePolicy", /use one of "Ignore", "Fail"/);
  });
});

function upstreamConfig(): Json {
  const a = (file: string) => ({ file, sha256: "a".repeat(64) });
  return {
    version: "v1.35.4",
    artifacts: {
      dir: "artifacts/lab",
      etcd: a("etcd"),
      kubeApiserver: a("kube-apiserver"),
      kubeControllerManager: a("kube-controller-manager"),
      kubeScheduler: a("kube-scheduler"),
      kubectl: a("kubectl"),
      kwok: a("kwok"),
      kwokStages: a("kwok-stages.yaml"),
    },
  };
}

describe("validate: distributions", () => {
  it("needs edgefleet:upstream for an upstream site, and one server host", () => {
    const cfg = validConfig();
    sites(cfg)[0].distribution = "upstream";
    expectProblem(cfg, "edgefleet:upstream", /runs the upstream control plane/);
    cfg["edgefleet:upstream"] = upstreamConfig();
    expect(sites(cfg)[0].hosts.length).toBeGreaterThan(1);
    expectProblem(cfg, "edgefleet:sites[0].hosts", /exactly one server host/);
    sites(cfg)[0].hosts = [sites(cfg)[0].hosts[0]];
    sites(cfg)[0].disableAgentOnServers = true;
    sites(cfg)[0].kwok = { nodes: 3 };
    sites(cfg)[0].overrides = {};
    expect(problemsOf(cfg)).toEqual([]);
  });
  it("needs edgefleet:k3s for a K3s site", () => {
    const cfg = validConfig();
    delete cfg["edgefleet:k3s"];
    expectProblem(cfg, "edgefleet:k3s", /runs K3s/);
  });
  it("needs kwok artifacts for simulated nodes", () => {
    const cfg = validConfig();
    sites(cfg)[1].hosts = [sites(cfg)[1].hosts[0]];
    Object.assign(sites(cfg)[1], { distribution: "upstream", kwok: { nodes: 2 } });
    const up = upstreamConfig() as { artifacts: Json };
    delete up.artifacts.kwok;
    cfg["edgefleet:upstream"] = up;
    expectProblem(cfg, "edgefleet:upstream.artifacts.kwok", /simulated \(kwok\) nodes/);
  });
  it("refuses simulated nodes on a K3s site (they are registered next to the upstream control plane only)", () => {
    const cfg = validConfig();
    sites(cfg)[0].kwok = { nodes: 2 };
    expectProblem(cfg, "edgefleet:sites[0].kwok", /runs K3s, but simulated \(kwok\) nodes .* \| remove kwok/);
  });
  it("refuses an explicit size for simulated nodes", () => {
    const cfg = validConfig();
    sites(cfg)[1].hosts = [sites(cfg)[1].hosts[0]];
    Object.assign(sites(cfg)[1], { distribution: "upstream", kwok: { nodes: 2, size: { cpu: 8, memory: "16Gi" } } });
    cfg["edgefleet:upstream"] = upstreamConfig();
    expectProblem(cfg, "edgefleet:sites[1].kwok.size", /named size class.*\| use one of 2c4g, 4c8g/);
  });
  it("rejects an unpinned upstream version", () => {
    const cfg = validConfig();
    cfg["edgefleet:upstream"] = { ...upstreamConfig(), version: "1.35" };
    expectProblem(cfg, "edgefleet:upstream.version", /not a Kubernetes release version/);
  });
});

describe("validate: lab", () => {
  function labConfig(): Json {
    const cfg = validConfig();
    const s = sites(cfg)[1];
    cfg["edgefleet:sites"] = [
      {
        ...s,
        serviceMode: "supervise",
        disableAgentOnServers: true,
        distribution: "upstream",
        kwok: { nodes: 5 },
        hosts: [{ ...s.hosts[0], address: "198.18.0.11" }],
        overrides: {},
      },
    ];
    cfg["edgefleet:lab"] = {
      hosts: 1,
      kwokNodes: 5,
      bridgeCidr: "198.18.0.0/24",
    };
    cfg["edgefleet:upstream"] = upstreamConfig();
    return cfg;
  }
  it("passes a consistent lab", () => {
    const spec = validate("lab", labConfig(), SECRET_KEYS);
    expect(spec.lab).toEqual({
      hosts: 1,
      kwokNodes: 5,
      bridgeCidr: "198.18.0.0/24",
    });
    expect(spec.sites[0].kwok).toMatchObject({
      nodes: 5,
      size: { name: "2c4g" },
    }); // retailCity's case size
  });
  it("fails on a bridge outside 198.18.0.0/15, counts that disagree, and a host off the bridge", () => {
    const cfg = labConfig();
    cfg["edgefleet:lab"] = {
      hosts: 2,
      kwokNodes: 4,
      bridgeCidr: "10.0.0.0/24",
    };
    expectProblem(cfg, "edgefleet:lab.bridgeCidr", /outside 198\.18\.0\.0\/15/);
    cfg["edgefleet:lab"] = {
      hosts: 2,
      kwokNodes: 4,
      bridgeCidr: "198.19.0.0/24",
    };
    expectProblem(cfg, "edgefleet:lab.hosts", /creates 2 hosts but the inventory lists 1/);
    expectProblem(cfg, "edgefleet:lab.kwokNodes", /add up to 5/);
    expectProblem(cfg, "edgefleet:sites[0].hosts[0].address", /outside the lab bridge 198\.19\.0\.0\/24/);
  });
});

describe("validate: registry mirrors", () => {
  it("normalizes K3s's `endpoint` to infra's `endpoints`", () => {
    const cfg = validConfig();
    cfg["edgefleet:registry"] = {
      mirrors: {
        "registry.example.com": {
          endpoint: ["https://mirror.example.com:5000"],
        },
      },
    };
    expect(validate("s", cfg, SECRET_KEYS).registry).toEqual({
      mirrors: {
        "registry.example.com": {
          endpoints: ["https://mirror.example.com:5000"],
        },
      },
    });
  });
  it("fails on an endpoint that is not an http(s) URL and a bad registry name", () => {
    const cfg = validConfig();
    cfg["edgefleet:registry"] = {
      mirrors: {
        "Registry Example": { endpoint: ["https://mirror.example.com"] },
      },
    };
    expectProblem(cfg, 'edgefleet:registry.mirrors["Registry Example"]', /not a registry host/);
    cfg["edgefleet:registry"] = {
      mirrors: { "docker.io": { endpoint: ["ftp://mirror.example.com"] } },
    };
    expectProblem(cfg, 'edgefleet:registry.mirrors["docker.io"].endpoint[0]', /not a valid url/);
  });
});

describe("validate: agentTokenGeneration", () => {
  it("defaults to 0 and reaches the cluster's args as written", async () => {
    const { k3sClusterArgs } = await import("../../../config/hostLayer");
    const cfg = validConfig();
    sites(cfg)[1].agentTokenGeneration = 3;
    const spec = validate("test-stack", cfg, SECRET_KEYS);
    expect(spec.sites.map((s) => s.agentTokenGeneration)).toEqual([0, 3]);
    expect(k3sClusterArgs(spec, spec.sites[1], 1, "key", "/").agentTokenGeneration).toBe(3);
  });

  it.each([-1, 1.5, "1"])("refuses %p, at the site's path", (g) => {
    const cfg = validConfig();
    sites(cfg)[0].agentTokenGeneration = g;
    expectProblem(cfg, "edgefleet:sites[0].agentTokenGeneration", /./);
  });
});
