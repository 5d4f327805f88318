/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Every CrossGuard policy, violating and compliant: the pure rules directly,
 * and the pack's wiring (policies.ts) through the CrossGuard callback shape.
 */
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { GATEKEEPER_POLICIES } from "../../policies/gatekeeper/catalog";
import { siteOptions } from "../../policies/crossguard/config";
import { pulumiTypeOf, workloadOf } from "../../policies/crossguard/lib/workload";
import { runtimeClassOf } from "../../config/capacity";
import { uniformEdgeNodes } from "../../config/edgeNodes";
import { renderRuntimeClass } from "../../components/render/runtimeClass";
import { edgeCapacityViolations, nodeGroups, podGroupsOf } from "../../policies/crossguard/rules/capacity";
import {
  haServerViolations,
  probeViolations,
  replicatedTrackerViolations,
} from "../../policies/crossguard/rules/cluster";
import { HOST_LAYER_DEFAULTS, k3sPinViolations } from "../../policies/crossguard/rules/hostLayer";
import { SHARED_RULES } from "../../policies/crossguard/rules/pod";
import { SECRETS_DEFAULTS, plainConfigSecrets, plainSecretViolations } from "../../policies/crossguard/rules/secrets";
import { policies, siteOf } from "../../policies/crossguard/policies";
import { THRESHOLDS } from "../../policies/thresholds";
import { container, tracker, variant } from "./fixtures/manifests";

const w = (m: any) => workloadOf(pulumiTypeOf(m), m)!;
const params = (dir: string, cfg: any = { extraRegistries: ["registry.example.com"] }) =>
  GATEKEEPER_POLICIES.find((p) => p.dir === dir)!.parameters(THRESHOLDS, siteOptions(cfg));
const rule = (dir: string, m: any, cfg?: any) => SHARED_RULES[dir](w(m), params(dir, cfg));

describe("shared rules (the Gatekeeper policies' twins)", () => {
  const good = tracker();

  test("the compliant tracker passes every shared rule", () => {
    for (const dir of Object.keys(SHARED_RULES)) expect({ dir, v: rule(dir, good) }).toEqual({ dir, v: [] });
  });

  test("every Gatekeeper policy has a CrossGuard twin and vice versa", () => {
    expect(Object.keys(SHARED_RULES).sort()).toEqual(GATEKEEPER_POLICIES.map((p) => p.dir).sort());
  });

  const cases: Array<[string, (m: any) => void, RegExp]> = [
    ["tracker-runtime", (m) => delete m.spec.template.spec.runtimeClassName, /runtimeClassName "wasmedge", has ""/],
    [
      "tracker-runtime",
      (m) => (m.spec.template.spec.nodeSelector = { "node-type": "server" }),
      /nodeSelector node-type=edge/,
    ],
    ["required-resources", (m) => delete container(m).resources.limits, /must set resources.limits.cpu/],
    ["required-resources", (m) => (container(m).resources.requests.memory = "much"), /resources.requests.memory/],
    [
      "max-limits",
      (m) =>
        (container(m).resources = { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1651m", memory: "1Gi" } }),
      /1651m CPU in total; a 2c4g node/,
    ],
    ["max-limits", (m) => (container(m).resources.limits.memory = "4Gi"), /4096Mi memory/],
    ["limit-ratio", (m) => (container(m).resources.limits.cpu = "251m"), /cpu limit 251m is more than 5 x/],
    ["allowed-repos", (m) => (container(m).image = "evil.io/industrial-iot:1.0.0"), /not from an allowed registry/],
    ["disallowed-tags", (m) => (container(m).image = "registry.example.com/industrial-iot:latest"), /disallowed tag/],
    ["disallowed-tags", (m) => (container(m).image = "registry.example.com/industrial-iot"), /neither tag nor digest/],
    // A reference the runtime cannot read has no registry and no tag to judge: both image rules refuse it.
    [
      "allowed-repos",
      (m) => (container(m).image = "registry.example.com/Industrial-IoT:1.0.0"),
      /not a valid image reference \(repository "Industrial-IoT" must be lower-case\)/,
    ],
    [
      "disallowed-tags",
      (m) => (container(m).image = "registry.example.com/industrial-iot:1.0.0@sha256:abc"),
      /not a valid image reference/,
    ],
    [
      "host-filesystem",
      (m) => (m.spec.template.spec.volumes[0].hostPath.path = "/var/lib"),
      /outside the allowed prefixes/,
    ],
    ["privileged", (m) => (container(m).securityContext = { privileged: true }), /must not be privileged/],
    [
      "required-labels",
      (m) => delete m.spec.template.metadata.labels["app.kubernetes.io/part-of"],
      /app.kubernetes.io\/part-of/,
    ],
  ];
  test.each(cases)("%s refuses a violation (%#)", (dir, edit, message) => {
    const v = rule(dir, variant(good, edit));
    expect(v.length).toBeGreaterThan(0);
    expect(v.join("\n")).toMatch(message);
  });

  test("max-limits follows the configured size class", () => {
    const big = variant(
      good,
      (m) => (container(m).resources = { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "3", memory: "6Gi" } }),
    );
    expect(rule("max-limits", big, { sizeClass: "2c4g" }).length).toBe(2);
    expect(rule("max-limits", big, { sizeClass: "4c8g" })).toEqual([]);
  });

  test("allowed-repos takes the stack's extra registries", () => {
    expect(rule("allowed-repos", good, {})).toHaveLength(1);
    expect(rule("allowed-repos", good, { extraRegistries: ["registry.example.com"] })).toEqual([]);
  });

  describe("host-filesystem: read-only entries", () => {
    const logs = { extraRegistries: ["registry.example.com"], extraHostPaths: THRESHOLDS.logShipperHostPaths };
    /** The tracker with a second hostPath volume, /var/log, mounted as `mounts` say. */
    const shipper = (edit: (pod: any) => void) =>
      variant(good, (m) => {
        const pod = m.spec.template.spec;
        pod.volumes.push({ name: "varlog", hostPath: { path: "/var/log", type: "Directory" } });
        container(m).volumeMounts.push({ name: "varlog", mountPath: "/var/log", readOnly: true });
        edit(pod);
      });
    const writable =
      'mounts hostPath volume "varlog" ("/var/log") without readOnly: true; its prefix is allowed read-only';

    test("a read-only mount passes, in every container that mounts it", () => {
      expect(
        rule(
          "host-filesystem",
          shipper(() => {}),
          logs,
        ),
      ).toEqual([]);
      const withInit = shipper(
        (pod) =>
          (pod.initContainers = [
            { name: "init", volumeMounts: [{ name: "varlog", mountPath: "/l", readOnly: true }] },
          ]),
      );
      expect(rule("host-filesystem", withInit, logs)).toEqual([]);
    });

    test("without the site's entry, /var/log is outside the allow-list", () => {
      expect(
        rule(
          "host-filesystem",
          shipper(() => {}),
        ),
      ).toEqual(['volume "varlog" mounts hostPath "/var/log", outside the allowed prefixes [/var/lib/industrial-iot]']);
    });

    test("a writable mount is refused, naming each container that has one", () => {
      const v = rule(
        "host-filesystem",
        shipper((pod) => {
          delete pod.containers[0].volumeMounts[1].readOnly;
          pod.initContainers = [{ name: "init", volumeMounts: [{ name: "varlog", mountPath: "/l", readOnly: false }] }];
          pod.ephemeralContainers = [
            { name: "debug", volumeMounts: [{ name: "varlog", mountPath: "/l", readOnly: true }] },
          ];
        }),
        logs,
      );
      expect(v).toEqual([`container "industrial-iot" ${writable}`, `container "init" ${writable}`]);
    });

    test("a volume under a read-only prefix that nothing mounts is refused", () => {
      const v = rule(
        "host-filesystem",
        shipper((pod) => pod.containers[0].volumeMounts.pop()),
        logs,
      );
      expect(v).toEqual([
        'hostPath volume "varlog" ("/var/log") lies under a read-only prefix and no container mounts it readOnly: true',
      ]);
    });

    test("a writable entry that also admits the path makes it writable; a plain string is a writable entry", () => {
      const m = shipper((pod) => delete pod.containers[0].volumeMounts[1].readOnly);
      expect(rule("host-filesystem", m, { extraHostPaths: [...logs.extraHostPaths, "/var"] })).toEqual([]);
      expect(rule("host-filesystem", m, { extraHostPaths: ["/var/log"] })).toEqual([]);
    });
  });

  test("non-trackers are not held to the tracker runtime", () => {
    const redis = variant(good, (m) => {
      m.metadata.namespace = "edgefleet";
      m.spec.template.metadata.labels["app.kubernetes.io/component"] = "cache";
      delete m.spec.template.spec.runtimeClassName;
    });
    expect(rule("tracker-runtime", redis)).toEqual([]);
  });
});

describe("edge capacity (stack)", () => {
  // Two 2C4G edge nodes, as policy-config.ts writes them: 1650m/3128Mi allocatable each.
  const site = { nodes: nodeGroups(uniformEdgeNodes(2, "2c4g", "factory-a", "factoryIiot")) };
  const wasmedge = new Map([runtimeClassOf(renderRuntimeClass())]);
  const none = new Map();
  test("fits: 10 factory trackers on two 2C4G nodes, each pod with the RuntimeClass's overhead", () => {
    expect(podGroupsOf([w(tracker())], none)[0].requests).toEqual({ cpuMillis: 50, memoryMiB: 64 });
    expect(podGroupsOf([w(tracker())], wasmedge)[0].requests).toEqual({ cpuMillis: 60, memoryMiB: 88 });
    expect(edgeCapacityViolations("factory-a", [w(tracker({ replicas: 10 }))], site, wasmedge)).toEqual([]);
  });
  test("the RuntimeClass overhead decides: 60 trackers fit at 50m, not at 50m + 10m", () => {
    // 1650m / 50m = 33 per node without it; 1650m / 60m = 27 with it.
    expect(edgeCapacityViolations("factory-a", [w(tracker({ replicas: 60 }))], site, none)).toEqual([]);
    expect(edgeCapacityViolations("factory-a", [w(tracker({ replicas: 60 }))], site, wasmedge)).toEqual([
      "site factory-a (2 nodes): 60 x 60m/88Mi (requests plus RuntimeClass overhead) of Deployment edgefleet-trackers/industrial-iot do not fit beside the platform: at most 54 do",
    ]);
  });
  test("does not fit: a DaemonSet on every node takes its room first", () => {
    const ds = w({
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "edgefleet-monitoring" },
      spec: {
        template: { spec: { containers: [{ name: "a", resources: { requests: { cpu: "1000m", memory: "128Mi" } } }] } },
      },
    });
    // 650m left per node: 13 trackers each.
    expect(edgeCapacityViolations("factory-a", [w(tracker({ replicas: 27 })), ds], site, none)).toEqual([
      "site factory-a (2 nodes): 27 x 50m/64Mi (requests plus RuntimeClass overhead) of Deployment edgefleet-trackers/industrial-iot do not fit beside the platform: at most 26 do",
    ]);
  });
  test("a tracker no node is labelled for is refused, whatever the room", () => {
    const servers = { nodes: site.nodes.map((g) => ({ ...g, labels: { ...g.labels, "node-type": "server" } })) };
    expect(edgeCapacityViolations("factory-a", [w(tracker())], servers, none)).toEqual([
      'site factory-a (2 nodes): Deployment edgefleet-trackers/industrial-iot may run on no node of the site (it needs labels {"node-type":"edge"} and no taint it does not tolerate)',
    ]);
  });
  test("a workload belongs to the only site, or to the site named like its provider", () => {
    expect(siteOf({}, ["a"])).toBe("a");
    expect(siteOf({ provider: { name: "b" } }, ["a", "b"])).toBe("b");
    expect(siteOf({ provider: { name: "c" } }, ["a", "b"])).toBeUndefined();
    expect(siteOf({ provider: { name: "factory-a-2-k8s" } }, ["factory-a", "factory-a-2"])).toBe("factory-a-2");
  });
});

describe("host layer: K3s pinned, artifacts checksummed", () => {
  const sha = "a".repeat(64);
  test("a resource type given in policy config: its version prop and required artifact list", () => {
    const cfg = {
      ...HOST_LAYER_DEFAULTS,
      versionProps: [{ typePattern: "acme:K3sInstall", prop: "k3sVersion" }],
      artifactLists: [
        { typePattern: "acme:K3sInstall", prop: "artifacts", nameField: "name", shaField: "sha256", required: true },
      ],
    };
    const type = "pulumi-nodejs:dynamic/acme:K3sInstall";
    const ok = { k3sVersion: "v1.34.2+k3s1", artifacts: [{ name: "k3s", sha256: sha }] };
    expect(k3sPinViolations(type, ok, cfg)).toEqual([]);
    const bad = { k3sVersion: "stable", artifacts: [{ name: "k3s", sha256: sha }, { name: "images" }] };
    expect(k3sPinViolations(type, bad, cfg)).toEqual([
      'k3sVersion "stable" is not a pinned K3s release (like v1.34.2+k3s1)',
      "artifact images has no valid sha256 (64 hex digits)",
    ]);
    expect(k3sPinViolations(type, { k3sVersion: "v1.34.2+k3s1", artifacts: [] }, cfg)).toEqual([
      "artifacts must list every downloaded artifact with its sha256",
    ]);
    // The defaults know no such resource.
    expect(k3sPinViolations(type, bad, HOST_LAYER_DEFAULTS)).toEqual([]);
  });
  test("infra/'s VersionGuard and HostCommand uploads", () => {
    const guard = "pulumi-nodejs:dynamic/edgefleet:VersionGuard";
    expect(k3sPinViolations(guard, { where: "s", version: "v1.34.2+k3s1" }, HOST_LAYER_DEFAULTS)).toEqual([]);
    expect(k3sPinViolations(guard, { where: "s", version: "v1.34" }, HOST_LAYER_DEFAULTS)).toHaveLength(1);
    const cmd = "pulumi-nodejs:dynamic/edgefleet:HostCommand";
    expect(k3sPinViolations(cmd, { create: "true" }, HOST_LAYER_DEFAULTS)).toEqual([]);
    expect(k3sPinViolations(cmd, { uploads: [{ remotePath: "/s/k3s", sha256: sha }] }, HOST_LAYER_DEFAULTS)).toEqual(
      [],
    );
    expect(k3sPinViolations(cmd, { uploads: [{ remotePath: "/s/k3s", sha256: "" }] }, HOST_LAYER_DEFAULTS)).toEqual([
      "artifact /s/k3s has no valid sha256 (64 hex digits)",
    ]);
  });
});

describe("no secret-looking value in plain config", () => {
  const cfg = SECRETS_DEFAULTS;
  test("ConfigMaps: secret keys, inline assignments, redis requirepass, key material", () => {
    const cm = "kubernetes:core/v1:ConfigMap";
    expect(
      plainSecretViolations(
        cm,
        { data: { "config.json": '{"database": {"path": "/data/x.db"}}', cache_ttl: "60" } },
        cfg,
      ),
    ).toEqual([]);
    expect(plainSecretViolations(cm, { data: { admin_password: "hunter2" } }, cfg)).toEqual([
      "ConfigMap data.admin_password looks like a secret: use a Secret",
    ]);
    expect(plainSecretViolations(cm, { data: { "redis.conf": "maxmemory 96mb\nrequirepass hunter2\n" } }, cfg)).toEqual(
      ["ConfigMap data.redis.conf: requirepass is set in plain text"],
    );
    expect(plainSecretViolations(cm, { data: { "app.yaml": "mqtt:\n  password: hunter2\n" } }, cfg)).toEqual([
      "ConfigMap data.app.yaml: password is set in plain text",
    ]);
    expect(
      plainSecretViolations(cm, { data: { "app.yaml": "password: ${MQTT_PASSWORD}\npassword_file: /run/x" } }, cfg),
    ).toEqual([]);
  });
  test("container env: plain values refused, secretKeyRef accepted", () => {
    const bad = variant(tracker(), (m) => (container(m).env = [{ name: "REDIS_PASSWORD", value: "hunter2" }]));
    expect(plainSecretViolations("kubernetes:apps/v1:Deployment", bad, cfg)).toEqual([
      'container "industrial-iot" env REDIS_PASSWORD has a plain value: use valueFrom.secretKeyRef',
    ]);
    const good = variant(
      tracker(),
      (m) => (container(m).env = [{ name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "r", key: "p" } } }]),
    );
    expect(plainSecretViolations("kubernetes:apps/v1:Deployment", good, cfg)).toEqual([]);
  });
  test("host commands: environment is plain, secretEnvironment and connection are not looked at", () => {
    const t = "pulumi-nodejs:dynamic/edgefleet:HostCommand";
    // A fake key; the marker is assembled so that secret scanners do not flag this file.
    const marker = ["OPENSSH", "PRIVATE", "KEY"].join(" ");
    const pem = `-----BEGIN ${marker}-----\nabc\n-----END ${marker}-----`;
    expect(plainSecretViolations(t, { environment: { K3S_TOKEN: "K10abc" } }, cfg)).toEqual([
      "environment.K3S_TOKEN looks like a secret: use secretEnvironment",
    ]);
    expect(
      plainSecretViolations(
        t,
        { environment: { HOST: "a" }, secretEnvironment: { K3S_TOKEN: "x" }, connection: { privateKey: pem } },
        cfg,
      ),
    ).toEqual([]);
    expect(plainSecretViolations(t, { create: `cat > /root/.ssh/id <<EOF\n${pem}\nEOF` }, cfg)).toEqual([
      "create: contains key material (-----BEGIN [A-Z ]*PRIVATE KEY-----)",
    ]);
    expect(plainSecretViolations("kubernetes:core/v1:Secret", { stringData: { key: pem } }, cfg)).toEqual([]);
  });
  test("stack config: secret-looking keys must be secure", () => {
    expect(plainConfigSecrets({ "edgefleet:redisPassword": "hunter2", "edgefleet:site": "factory-a" })).toEqual([
      "config edgefleet:redisPassword is plain text: set it with --secret",
    ]);
    expect(
      plainConfigSecrets({ "edgefleet:redisPassword": { secure: "v1:abc" }, "edgefleet:ssh": { keyPath: "/k" } }),
    ).toEqual([]);
  });
});

describe("cluster shape", () => {
  test("odd number of HA servers", () => {
    expect(haServerViolations(1)).toEqual([]);
    expect(haServerViolations(3)).toEqual([]);
    expect(haServerViolations(undefined)).toEqual([]);
    expect(haServerViolations(2)).toEqual([
      "a site has 2 servers; more than one server runs embedded etcd, which needs an odd count to keep quorum " +
        "(2 tolerate no more failures than 1, that is none); fix: use 1 or 3 servers (1 for SQLite, 3 for HA with embedded etcd), making the rest agents.",
    ]);
    expect(haServerViolations(0)).toHaveLength(1);
  });

  const pdb = {
    kind: "PodDisruptionBudget",
    namespace: "edgefleet-trackers",
    props: { spec: { selector: { matchLabels: { "app.kubernetes.io/name": "industrial-iot" } } } },
  };
  const hpa = {
    kind: "HorizontalPodAutoscaler",
    namespace: "edgefleet-trackers",
    props: { spec: { scaleTargetRef: { kind: "Deployment", name: "industrial-iot" } } },
  };
  test("advisory: replicated trackers have a PDB and an HPA", () => {
    expect(replicatedTrackerViolations([w(tracker())], [pdb, hpa], THRESHOLDS.trackers)).toEqual([]);
    expect(replicatedTrackerViolations([w(tracker({ replicas: 1 }))], [], THRESHOLDS.trackers)).toEqual([]);
    expect(replicatedTrackerViolations([w(tracker())], [hpa], THRESHOLDS.trackers)).toEqual([
      "tracker Deployment industrial-iot has 2 replicas but no PodDisruptionBudget selecting its Pods",
    ]);
    expect(replicatedTrackerViolations([w(tracker())], [pdb], THRESHOLDS.trackers)).toEqual([
      "tracker Deployment industrial-iot has 2 replicas but no HorizontalPodAutoscaler targeting it",
    ]);
  });
  test("advisory: probes", () => {
    expect(probeViolations(w(tracker()))).toEqual([]);
    expect(probeViolations(w(variant(tracker(), (m) => delete container(m).livenessProbe)))).toEqual([
      'container "industrial-iot" has no livenessProbe',
    ]);
  });
});

// ---- the pack's wiring, through the callback shape the CrossGuard engine uses

function resourceArgs(type: string, props: any, config: any = {}, name = "r", provider?: string): any {
  return {
    type,
    props,
    provider: provider === undefined ? undefined : { name: provider, type: "pulumi:providers:kubernetes" },
    urn: `urn:pulumi:dev::edgefleet::${type}::${name}`,
    name,
    opts: {},
    getConfig: () => config,
    isType: () => false,
    asType: () => undefined,
    notApplicable: () => {
      throw new Error("n/a");
    },
  };
}

function runResourcePolicy(name: string, type: string, props: any, config: any = {}, provider?: string): string[] {
  const p = policies.find((x) => x.name === name) as ResourceValidationPolicy;
  const out: string[] = [];
  const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
  for (const v of validations) (v as any)(resourceArgs(type, props, config, "r", provider), (m: string) => out.push(m));
  return out;
}

function runStackPolicy(name: string, resources: Partial<PolicyResource>[], config: any = {}): string[] {
  const p = policies.find((x) => x.name === name) as StackValidationPolicy;
  const out: string[] = [];
  (p.validateStack as any)({ resources, getConfig: () => config }, (m: string) => out.push(m));
  return out;
}

const asResource = (m: any): Partial<PolicyResource> => ({
  type: pulumiTypeOf(m),
  props: m,
  name: m.metadata.name,
  urn: `urn:${m.metadata.name}`,
});

describe("the pack (policies.ts)", () => {
  test("names, enforcement levels", () => {
    const levels = Object.fromEntries(policies.map((p) => [p.name, p.enforcementLevel]));
    expect(levels).toEqual({
      "tracker-runtime": "mandatory",
      "required-resources": "mandatory",
      "max-limits": "mandatory",
      "limit-ratio": "mandatory",
      "allowed-repos": "mandatory",
      "disallowed-tags": "mandatory",
      "host-filesystem": "mandatory",
      privileged: "mandatory",
      "required-labels": "mandatory",
      "edge-capacity": "mandatory",
      "ha-servers-odd": "mandatory",
      "k3s-pinned": "mandatory",
      "no-plain-secrets": "mandatory",
      "tracker-pdb-hpa": "advisory",
      probes: "advisory",
    });
  });

  test("shared policies leave the excluded namespaces alone, as the Constraints do", () => {
    const m = variant(tracker({ namespace: "kube-system" }), (x) => (container(x).image = "busybox"));
    expect(runResourcePolicy("disallowed-tags", pulumiTypeOf(m), m)).toEqual([]);
    expect(
      runResourcePolicy(
        "disallowed-tags",
        pulumiTypeOf(tracker()),
        variant(tracker(), (x) => (container(x).image = "busybox")),
      ),
    ).toHaveLength(1);
  });

  test("shared policies read the per-stack config", () => {
    const m = tracker();
    expect(runResourcePolicy("allowed-repos", pulumiTypeOf(m), m, {})).toEqual([
      `Deployment industrial-iot: container "industrial-iot" image "registry.example.com/industrial-iot:1.0.0" (registry.example.com/industrial-iot) is not from an allowed registry ${JSON.stringify(THRESHOLDS.allowedRegistries)}`,
    ]);
    expect(
      runResourcePolicy("allowed-repos", pulumiTypeOf(m), m, { extraRegistries: ["registry.example.com"] }),
    ).toEqual([]);
    expect(runResourcePolicy("disallowed-tags", "kubernetes:core/v1:ConfigMap", { data: {} })).toEqual([]);
  });

  test("shared policies take a site's own options from `sites`, by the workload's provider", () => {
    const m = variant(tracker(), (x) => {
      x.spec.template.spec.volumes.push({ name: "varlog", hostPath: { path: "/var/log" } });
      container(x).volumeMounts.push({ name: "varlog", mountPath: "/var/log", readOnly: true });
    });
    const cfg = {
      sites: {
        "factory-a": { extraHostPaths: [{ pathPrefix: "/var/log", readOnly: true }] },
        "city-b": { extraHostPaths: [] },
      },
    };
    const run = (provider?: string) => runResourcePolicy("host-filesystem", pulumiTypeOf(m), m, cfg, provider);
    expect(run("factory-a-k8s")).toEqual([]);
    expect(run("city-b-k8s")).toEqual([expect.stringMatching(/"varlog" mounts hostPath "\/var\/log", outside/)]);
    // A workload no site claims gets the stack-wide options (here none): never more than its site's.
    expect(run("elsewhere")).toHaveLength(1);
    expect(siteOptions(cfg, "factory-a").extraHostPaths).toEqual(cfg.sites["factory-a"].extraHostPaths);
    expect(siteOptions({ sizeClass: "4c8g", sites: { a: {} } }, "a").sizeClass).toBe("4c8g");
  });

  test("k3s-pinned, no-plain-secrets and probes run on resources", () => {
    expect(
      runResourcePolicy("k3s-pinned", "pulumi-nodejs:dynamic/edgefleet:VersionGuard", { version: "latest" }),
    ).toEqual(['r: version "latest" is not a pinned K3s release (like v1.34.2+k3s1)']);
    expect(runResourcePolicy("no-plain-secrets", "kubernetes:core/v1:ConfigMap", { data: { token: "abc" } })).toEqual([
      "r: ConfigMap data.token looks like a secret: use a Secret",
    ]);
    expect(runResourcePolicy("probes", pulumiTypeOf(tracker()), tracker())).toEqual([]);
  });

  test("edge-capacity needs config, then judges the stack", () => {
    const res = [asResource(tracker({ replicas: 100 }))];
    expect(runStackPolicy("edge-capacity", res, {})).toEqual([
      "no edge capacity configured: set edge-capacity.sites in the stack's policy config",
    ]);
    const nodes = (n: number) => ({ nodes: nodeGroups(uniformEdgeNodes(n, "2c4g", "factory-a", "factoryIiot")) });
    expect(runStackPolicy("edge-capacity", res, { sites: { "factory-a": nodes(4) } })).toEqual([]);
    expect(runStackPolicy("edge-capacity", res, { sites: { "factory-a": nodes(1) } })).toEqual([
      expect.stringMatching(/^site factory-a \(1 nodes\): 100 x 50m\/64Mi .* at most 33 do$/),
    ]);
    // The stack's RuntimeClass brings its overhead: 4 x 27 = 108 still hold 100, 3 x 27 do not.
    const rc = { ...asResource(renderRuntimeClass()) };
    expect(runStackPolicy("edge-capacity", [...res, rc], { sites: { "factory-a": nodes(3) } })).toEqual([
      expect.stringMatching(/100 x 60m\/88Mi .* at most 81 do$/),
    ]);
  });

  test("ha-servers-odd and tracker-pdb-hpa", () => {
    expect(runStackPolicy("ha-servers-odd", [], { servers: 4 })).toHaveLength(1);
    expect(runStackPolicy("ha-servers-odd", [], { servers: 3 })).toEqual([]);
    expect(runStackPolicy("tracker-pdb-hpa", [asResource(tracker())])).toHaveLength(2);
  });
});
