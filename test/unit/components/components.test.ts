import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { localGatekeeperManifest } from "../../../components/gatekeeperManifest";
import { PROFILE_NAMES, PROFILES } from "../../../config/profiles";
import { byType, installMocks, one, outputValue, Registered, settle } from "./helpers";

const registered: Registered[] = installMocks();
// Sites render the 6000-line Gatekeeper manifest; CI machines run the real-program suite in parallel.
jest.setTimeout(60_000);

// Imported after the mocks are installed.
import { Gatekeeper } from "../../../components/gatekeeper";
import { Grafana } from "../../../components/grafana";
import { LogShipper } from "../../../components/logShipper";
import { Loki } from "../../../components/loki";
import { OpaServer } from "../../../components/opaServer";
import { Prometheus } from "../../../components/prometheus";
import { RabbitMQ } from "../../../components/rabbitmq";
import { Redis } from "../../../components/redis";
import { Site } from "../../../components/site";
import { Tracker } from "../../../components/tracker";
import { WasmEdgeRuntimeClass } from "../../../components/wasmEdgeRuntimeClass";

const provider = new k8s.Provider("site-cluster", { kubeconfig: "{}" });
const res = (a: number, b: number, c: number, d: number) => ({
  requests: { cpuMillis: a, memoryMiB: b },
  limits: { cpuMillis: c, memoryMiB: d },
});
const MOCK_SECRET = "MockSecretValue0123456789abcdefXY";
const AUTHZ =
  'package industrial\n\nimport rego.v1\n\ndefault allow := false\n\nallow if {\n\tinput.action == "collect"\n}\n';
const template = {
  apiVersion: "templates.gatekeeper.sh/v1",
  kind: "ConstraintTemplate",
  metadata: { name: "k8srequiredresources" },
  spec: { crd: { spec: { names: { kind: "K8sRequiredResources" } } }, targets: [] },
};
const constraint = {
  apiVersion: "constraints.gatekeeper.sh/v1beta1",
  kind: "K8sRequiredResources",
  metadata: { name: "trackers-need-resources" },
  spec: { match: { kinds: [{ apiGroups: ["apps"], kinds: ["Deployment"] }] } },
};

/** Resources registered since `from`, i.e. by the component under test. */
function since(from: number): Registered[] {
  return registered.slice(from);
}

function expectOnProvider(rs: Registered[]) {
  for (const r of rs.filter((x) => x.type.startsWith("kubernetes:") && !x.type.startsWith("kubernetes:yaml"))) {
    expect({ name: r.name, provider: r.provider }).toEqual({
      name: r.name,
      provider: expect.stringContaining("pulumi:providers:kubernetes::site-cluster"),
    });
  }
}

describe("WasmEdgeRuntimeClass", () => {
  it("creates the RuntimeClass on the site provider", async () => {
    const start = registered.length;
    new WasmEdgeRuntimeClass("rc", { provider });
    await settle(registered);
    const r = one(since(start), "kubernetes:node.k8s.io/v1:RuntimeClass");
    expect(r.inputs).toMatchObject({
      metadata: { name: "wasmedge" },
      handler: "wasmedge",
      scheduling: { nodeSelector: { "edgefleet.dev/wasm": "true" } },
    });
    expectOnProvider(since(start));
  });
});

describe("Tracker", () => {
  it("creates ConfigMap, Deployment, Service, PDB and HPA; refuses :latest", async () => {
    const p = PROFILES["logisticsHub"];
    const base = {
      provider,
      site: "s",
      namespace: "edgefleet",
      replicas: 2,
      hpaMaxReplicas: 8,
      targetCpuUtilizationPercent: 70,
      resources: p.tracker.resources,
      settings: p.tracker.settings,
      runtimeClassName: "wasmedge",
      endpoints: { redis: "redis.edgefleet.svc:6379" },
      secretEnv: [{ name: "REDIS_PASSWORD", secret: "redis-auth", key: "password" }],
    };
    expect(
      () => new Tracker("bad", { ...base, image: { registry: "r.example", repository: "t", tag: "latest" } }),
    ).toThrow(/latest/);
    const start = registered.length;
    new Tracker("t", { ...base, image: { registry: "r.example", repository: "logistics-tracker", tag: "2.1.0" } });
    await settle(registered);
    const rs = since(start);
    const dep = one(rs, "kubernetes:apps/v1:Deployment").inputs;
    const c = dep.spec.template.spec.containers[0];
    expect(c.image).toBe("r.example/logistics-tracker:2.1.0");
    expect(dep.spec.template.spec.runtimeClassName).toBe("wasmedge");
    expect(c.resources).toEqual({
      requests: { cpu: "200m", memory: "256Mi" },
      limits: { cpu: "1000m", memory: "1024Mi" },
    });
    expect(c.env).toContainEqual({
      name: "REDIS_PASSWORD",
      valueFrom: { secretKeyRef: { name: "redis-auth", key: "password" } },
    });
    expect(one(rs, "kubernetes:core/v1:ConfigMap").inputs.data).toMatchObject({
      cache_ttl: "10s",
      max_connections: "20000",
      redis_addr: "redis.edgefleet.svc:6379",
    });
    expect(one(rs, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 8,
    });
    one(rs, "kubernetes:policy/v1:PodDisruptionBudget");
    one(rs, "kubernetes:core/v1:Service");
    expectOnProvider(rs);
  });
});

describe("Redis", () => {
  it("puts a RandomSecret password in a Secret (with auth.conf) and wires the StatefulSet", async () => {
    const start = registered.length;
    const r = new Redis("redis", {
      provider,
      site: "s",
      namespace: "edgefleet",
      monitoringNamespace: "mon",
      persistence: "none",
      resources: res(100, 256, 500, 512),
      storageGi: 0,
    });
    await settle(registered);
    const rs = since(start);
    expect(byType(rs, "pulumi-nodejs:dynamic/edgefleet:RandomSecret")).toHaveLength(1);
    const secret = one(rs, "kubernetes:core/v1:Secret").inputs;
    expect(secret.metadata.name).toBe("redis-auth");
    expect(secret.stringData).toEqual({ password: MOCK_SECRET, "auth.conf": `requirepass ${MOCK_SECRET}\n` });
    const conf = one(rs, "kubernetes:core/v1:ConfigMap").inputs.data["redis.conf"];
    expect(conf).toContain(`maxmemory ${384 * 1024 * 1024}`);
    expect(conf).not.toContain(MOCK_SECRET);
    one(rs, "kubernetes:apps/v1:StatefulSet");
    one(rs, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    expect(await outputValue(r.address)).toBe("redis.edgefleet.svc:6379");
    expectOnProvider(rs);
  });
});

describe("RabbitMQ", () => {
  const base = {
    provider,
    site: "s",
    namespace: "edgefleet",
    monitoringNamespace: "mon",
    resources: res(150, 384, 500, 640),
    storageGi: 2,
  };

  it("imports definitions with the tracker and one user per device, and serves MQTT over TLS", async () => {
    const start = registered.length;
    const r = new RabbitMQ("rmq", {
      ...base,
      mqtt: true,
      mqttSettings: {
        devices: [{ name: "sensor-1" }, { name: "sensor-2", password: "GivenPassword0123456789" }],
        addresses: ["192.0.2.10"],
        serverNames: ["mqtt.s.example.com"],
      },
    });
    await settle(registered);
    const rs = since(start);
    // tracker and sensor-1 generated; sensor-2's password is the stack's.
    expect(byType(rs, "pulumi-nodejs:dynamic/edgefleet:RandomSecret").map((x) => x.name)).toEqual([
      "rmq-tracker-password",
      "rmq-device-sensor-1-password",
    ]);
    const secrets = byType(rs, "kubernetes:core/v1:Secret").map((s) => s.inputs);
    const byName = (n: string) => secrets.find((s) => s.metadata.name === n)!;
    const defs = JSON.parse(byName("rabbitmq-definitions").stringData["definitions.json"]);
    expect(defs.users.map((u: { name: string; password: string }) => [u.name, u.password])).toEqual([
      ["tracker", MOCK_SECRET],
      ["sensor-1", MOCK_SECRET],
      ["sensor-2", "GivenPassword0123456789"],
    ]);
    expect(defs.topic_permissions.map((t: { user: string }) => t.user)).toEqual(["sensor-1", "sensor-2"]);
    expect(byName("rabbitmq-tracker").stringData.url).toBe(
      `amqp://tracker:${MOCK_SECRET}@rabbitmq.edgefleet.svc:5672/edgefleet`,
    );
    expect(byName("rabbitmq-mqtt-devices").stringData).toEqual({
      "sensor-1.password": MOCK_SECRET,
      "sensor-2.password": "GivenPassword0123456789",
    });
    // A site CA, and the broker's certificate it signs for the Service names, the node and the stack's name.
    one(rs, "pulumi-nodejs:dynamic/edgefleet:SiteCa", "rmq-mqtt-ca");
    const cert = one(rs, "pulumi-nodejs:dynamic/edgefleet:ServerCertificate").inputs;
    expect(cert.dnsNames).toEqual(expect.arrayContaining(["rabbitmq-mqtt.edgefleet.svc", "mqtt.s.example.com"]));
    expect(cert.ipAddresses).toEqual(["192.0.2.10"]);
    expect(cert.caCertPem).toBe("MOCK CERT rmq-mqtt-ca");
    const tls = byName("rabbitmq-mqtt-tls");
    expect(tls.type).toBe("kubernetes.io/tls");
    expect(tls.stringData).toEqual({
      "tls.crt": "MOCK CERT rmq-mqtt-cert",
      "tls.key": "MOCK KEY rmq-mqtt-cert",
      "ca.crt": "MOCK CERT rmq-mqtt-ca",
    });
    const cm = one(rs, "kubernetes:core/v1:ConfigMap").inputs.data;
    expect(cm.enabled_plugins).toContain("rabbitmq_mqtt");
    expect(cm["rabbitmq.conf"]).toContain("mqtt.listeners.tcp = none");
    const sts = one(rs, "kubernetes:apps/v1:StatefulSet").inputs;
    expect(sts.spec.template.metadata.annotations["edgefleet.dev/secrets-hash"]).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(sts)).not.toContain(MOCK_SECRET);
    expect(
      byType(rs, "kubernetes:core/v1:Service")
        .map((s) => s.inputs.spec.type ?? "ClusterIP")
        .sort(),
    ).toEqual(["ClusterIP", "NodePort"]);
    const endpoint = await outputValue(r.mqtt!);
    expect(endpoint).toEqual({
      tlsPort: 8883,
      tlsNodePort: 30883,
      caCertPem: "MOCK CERT rmq-mqtt-ca",
      devices: [
        { name: "sensor-1", username: "sensor-1", password: MOCK_SECRET },
        { name: "sensor-2", username: "sensor-2", password: "GivenPassword0123456789" },
      ],
    });
    expect(await pulumi.isSecret(r.mqtt!)).toBe(true);
    expectOnProvider(rs);
  });

  it("signs with the stack's CA instead of making one, and rotates a device by its generation", async () => {
    const start = registered.length;
    new RabbitMQ("rmq2", {
      ...base,
      mqtt: true,
      mqttSettings: {
        devices: [{ name: "sensor-1", generation: 2 }],
        ca: { certPem: "STACK CA CERT", privateKeyPem: "STACK CA KEY" },
      },
    });
    await settle(registered);
    const rs = since(start);
    expect(byType(rs, "pulumi-nodejs:dynamic/edgefleet:SiteCa")).toHaveLength(0);
    const cert = one(rs, "pulumi-nodejs:dynamic/edgefleet:ServerCertificate").inputs;
    expect([cert.caCertPem, cert.caPrivateKeyPem]).toEqual(["STACK CA CERT", "STACK CA KEY"]);
    expect(
      one(rs, "pulumi-nodejs:dynamic/edgefleet:RandomSecret", "rmq2-device-sensor-1-password").inputs.keepers,
    ).toEqual({
      generation: "2",
    });
  });

  it("has no MQTT users, certificate or NodePort without MQTT", async () => {
    const start = registered.length;
    const r = new RabbitMQ("rmq3", { ...base, mqtt: false, mqttSettings: { devices: [{ name: "ignored" }] } });
    await settle(registered);
    const rs = since(start);
    expect(byType(rs, "pulumi-nodejs:dynamic/edgefleet:RandomSecret")).toHaveLength(1);
    expect(byType(rs, "pulumi-nodejs:dynamic/edgefleet:ServerCertificate")).toHaveLength(0);
    expect(
      byType(rs, "kubernetes:core/v1:Secret")
        .map((s) => s.inputs.metadata.name)
        .sort(),
    ).toEqual(["rabbitmq-definitions", "rabbitmq-tracker"]);
    expect(r.mqtt).toBeUndefined();
  });
});

describe("Prometheus and Grafana", () => {
  it("Prometheus gets RBAC, config with rules, StatefulSet and Service", async () => {
    const start = registered.length;
    const p = new Prometheus("prom", {
      provider,
      site: "s",
      profile: "retailCity",
      namespace: "mon",
      targets: { appNamespace: "edgefleet", redis: false, rabbitmq: true },
      resources: res(100, 256, 300, 512),
      storageGi: 2,
      retentionTime: "7d",
      rules: { profile: PROFILES["retailCity"], redis: false, rabbitmq: true },
    });
    await settle(registered);
    const rs = since(start);
    one(rs, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole");
    expect(one(rs, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").inputs.subjects[0]).toMatchObject({
      name: "prometheus",
      namespace: "mon",
    });
    const data = one(rs, "kubernetes:core/v1:ConfigMap").inputs.data;
    expect(data["edgefleet.rules.yaml"]).toContain("> 0.03");
    expect(data["prometheus.yml"]).toContain("job_name: rabbitmq");
    expect(await outputValue(p.url)).toBe("http://prometheus.mon.svc:9090");
    expectOnProvider(rs);
  });

  it("Grafana gets a RandomSecret admin password, provisioning and dashboards", async () => {
    const start = registered.length;
    const g = new Grafana("graf", {
      provider,
      site: "s",
      namespace: "mon",
      prometheusUrl: "http://prometheus.mon.svc:9090",
      p99SloMs: 30,
      resources: res(50, 96, 200, 192),
    });
    await settle(registered);
    const rs = since(start);
    expect(one(rs, "kubernetes:core/v1:Secret").inputs).toMatchObject({
      metadata: { name: "grafana-admin" },
      stringData: { password: MOCK_SECRET },
    });
    expect(
      byType(rs, "kubernetes:core/v1:ConfigMap")
        .map((c) => c.inputs.metadata.name)
        .sort(),
    ).toEqual(["grafana-dashboards", "grafana-provisioning"]);
    expect(await outputValue(g.adminPassword)).toBe(MOCK_SECRET);
    expectOnProvider(rs);
  });
});

describe("OPA, Loki, Gatekeeper", () => {
  it("OpaServer serves the given Rego behind a NetworkPolicy", async () => {
    const start = registered.length;
    new OpaServer("opa", {
      provider,
      site: "s",
      namespace: "edgefleet",
      monitoringNamespace: "mon",
      policyRego: AUTHZ,
      resources: res(25, 48, 100, 128),
    });
    await settle(registered);
    const rs = since(start);
    expect(one(rs, "kubernetes:core/v1:ConfigMap").inputs.data["authz.rego"]).toBe(AUTHZ);
    one(rs, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    expectOnProvider(rs);
  });

  it("Loki is a StatefulSet with its config", async () => {
    const start = registered.length;
    new Loki("loki", {
      provider,
      site: "s",
      namespace: "mon",
      resources: res(100, 128, 300, 384),
      storageGi: 4,
      retentionHours: 168,
    });
    await settle(registered);
    const rs = since(start);
    expect(one(rs, "kubernetes:apps/v1:StatefulSet").inputs.spec.template.spec.containers[0].image).toMatch(
      /^grafana\/loki:3\./,
    );
    // Nothing ships here, so its NetworkPolicy admits no one.
    expect(one(rs, "kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs.spec.ingress).toEqual([]);
    expectOnProvider(rs);
  });

  it("LogShipper is a Fluent Bit DaemonSet with its ServiceAccount, config and NetworkPolicy", async () => {
    const start = registered.length;
    new LogShipper("ls", {
      provider,
      site: "s",
      namespace: "mon",
      monitoringNamespace: "mon",
      lokiNamespace: "mon",
      resources: res(20, 32, 100, 96),
      memBufLimitMB: 16,
    });
    await settle(registered);
    const rs = since(start);
    expect(one(rs, "kubernetes:apps/v1:DaemonSet").inputs.spec.template.spec.containers[0].image).toMatch(
      /^fluent\/fluent-bit:5\./,
    );
    one(rs, "kubernetes:core/v1:ServiceAccount");
    one(rs, "kubernetes:core/v1:ConfigMap");
    one(rs, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    one(rs, "kubernetes:scheduling.k8s.io/v1:PriorityClass");
    expectOnProvider(rs);
  });

  it("Gatekeeper installs the transformed upstream objects, then templates, then constraints", async () => {
    const start = registered.length;
    new Gatekeeper("gk", {
      provider,
      manifestPath: localGatekeeperManifest(),
      templates: [template],
      constraints: [constraint],
      controllerReplicas: 1,
      controllerResources: res(100, 256, 300, 384),
      auditResources: res(50, 192, 200, 384),
      validatingFailurePolicy: "Ignore",
    });
    await settle(registered);
    const rs = since(start);
    // Object by object, named as the ConfigGroups of earlier releases named them.
    expect(byType(rs, "kubernetes:yaml/v2:ConfigGroup")).toEqual([]);
    const names = rs.map((r) => r.name);
    expect(names).toContain("gk-install:gatekeeper-system");
    expect(names).toContain("gk-install:gatekeeper-system/gatekeeper-controller-manager");
    expect(names).toContain("gk-install:constrainttemplates.templates.gatekeeper.sh");
    expect(names.indexOf("gk-install:gatekeeper-system")).toBeLessThan(
      names.indexOf("gk-install:gatekeeper-system/gatekeeper-audit"),
    );
    const controller = rs.find(
      (r) => r.type === "kubernetes:apps/v1:Deployment" && r.name.endsWith("/gatekeeper-controller-manager"),
    )!;
    expect(controller.inputs.spec.replicas).toBe(1);
    expect(rs.filter((r) => r.type === "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition")).toHaveLength(17);
    const tpl = one(rs, "kubernetes:templates.gatekeeper.sh/v1:ConstraintTemplate");
    expect(tpl.name).toBe(`gk-templates:${template.metadata.name}`);
    expect(tpl.inputs.metadata.annotations["pulumi.com/waitFor"]).toBe("jsonpath={.status.created}=true");
    const c = one(rs, `kubernetes:constraints.gatekeeper.sh/v1beta1:${constraint.kind}`);
    expect(c.name).toBe(`gk-constraints:${constraint.metadata.name}`);
    expect(c.inputs).toEqual(constraint);
  });
});

describe("Site", () => {
  const base = {
    provider,
    edgeNodes: 10,
    trackerImage: { registry: "registry.example.com", repository: "edgefleet/tracker", tag: "1.0.0" },
    gatekeeper: { manifestPath: localGatekeeperManifest(), templates: [template], constraints: [constraint] },
    authzPolicyRego: AUTHZ,
  };

  it.each(PROFILE_NAMES)("%s assembles exactly the profile's components", async (profile) => {
    const start = registered.length;
    const site = new Site(`site-${profile}`, { ...base, site: `site-${profile}`, profile });
    await settle(registered);
    const rs = since(start);
    const ex = PROFILES[profile].extras;
    const comps = rs
      .filter((r) => r.type.startsWith("edgefleet:components:"))
      .map((r) => r.type.split(":")[2])
      .sort();
    const expected = ["Gatekeeper", "Grafana", "Prometheus", "Site", "Tracker", "WasmEdgeRuntimeClass"];
    if (ex.redis) expected.push("Redis");
    if (ex.rabbitmq) expected.push("RabbitMQ");
    if (ex.authz) expected.push("OpaServer");
    if (ex.loki) expected.push("Loki");
    if (ex.logShipper) expected.push("LogShipper");
    expect(comps).toEqual(expected.sort());
    // Cluster-scoped, so created only by the component that needs it.
    expect(byType(rs, "kubernetes:scheduling.k8s.io/v1:PriorityClass")).toHaveLength(ex.logShipper ? 1 : 0);
    const tracker = rs.find(
      (r) => r.type === "kubernetes:apps/v1:Deployment" && r.inputs.metadata.name === "tracker",
    )!.inputs;
    expect(tracker.spec.replicas).toBe(site.resolved.tracker.replicas);
    expect(site.resolved.tracker.replicas).toBe(
      Math.max(1, Math.round((10 * PROFILES[profile].fleet.trackerReplicas) / PROFILES[profile].fleet.edgeNodes)),
    );
    const vol = tracker.spec.template.spec.volumes.find((v: { name: string }) => v.name === "data");
    expect(vol.hostPath?.path).toBe(ex.sqliteHostPath);
    expect(
      byType(rs, "kubernetes:core/v1:Namespace")
        .map((n) => n.inputs.metadata.name)
        .sort(),
    ).toEqual(["edgefleet", "edgefleet-monitoring", "gatekeeper-system"]);
    expectOnProvider(rs);
  });

  it("applies stack overrides: agent mode, no Grafana, Gatekeeper Fail, more replicas", async () => {
    const start = registered.length;
    const site = new Site("site-over", {
      ...base,
      site: "over",
      profile: "edgeGeneral",
      overrides: {
        trackerReplicas: 5,
        redis: false,
        monitoring: { agentMode: true, remoteWriteUrl: "https://central.example.com/api/v1/write" },
        gatekeeper: { controllerReplicas: 2, validatingFailurePolicy: "Fail" },
      },
    });
    await settle(registered);
    const rs = since(start);
    expect(site.resolved.tracker.replicas).toBe(5);
    expect(rs.some((r) => r.type === "edgefleet:components:Redis")).toBe(false);
    expect(rs.some((r) => r.type === "edgefleet:components:Grafana")).toBe(false);
    const prom = rs.find(
      (r) => r.type === "kubernetes:apps/v1:StatefulSet" && r.inputs.metadata.name === "prometheus",
    )!;
    expect(prom.inputs.spec.template.spec.containers[0].args).toContain("--enable-feature=agent");
    const vwc = one(rs, "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration");
    expect(vwc.inputs.webhooks[0].failurePolicy).toBe("Fail");
  });

  it("fails with a clear capacity error instead of over-committing the site", () => {
    expect(
      () =>
        new Site("site-big", {
          ...base,
          site: "big",
          profile: "factoryIiot",
          edgeNodes: 1,
          overrides: { trackerReplicas: 40 },
        }),
    ).toThrow(
      /site big: site capacity \(factoryIiot\): 40 x 60m\/88Mi \(requests plus RuntimeClass overhead\) of Deployment edgefleet\/tracker do not fit beside the platform: at most 20 do/,
    );
  });

  it("requires the authz policy where the profile runs OPA, and a pinned image", () => {
    expect(
      () => new Site("site-noauthz", { ...base, site: "x", profile: "factoryIiot", authzPolicyRego: undefined }),
    ).toThrow(/authzPolicyRego is required/);
    expect(
      () =>
        new Site("site-latest", {
          ...base,
          site: "y",
          profile: "retailCity",
          trackerImage: { ...base.trackerImage, tag: "latest" },
        }),
    ).toThrow(/latest/);
  });
});
