import { parse } from "yaml";
import { PROFILES } from "../../../config/profiles";
import { k8sResources } from "../../../components/render/common";
import {
  checkConstraints,
  parseManifest,
  prepareTemplates,
  transformGatekeeper,
} from "../../../components/render/gatekeeper";
import { renderLokiConfig } from "../../../components/render/loki";
import { OPA_SYSTEM_AUTHZ, renderOpa } from "../../../components/render/opa";
import {
  rabbitmqThresholds,
  rabbitUsers,
  deviceUser,
  MQTT_PLAINTEXT_NODE_PORT,
  MQTT_PLAINTEXT_PORT,
  MQTT_TLS_NODE_PORT,
  MQTT_TLS_PORT,
  RABBITMQ_TLS_SECRET,
  renderDefinitions,
  renderEnabledPlugins,
  renderRabbitmq,
  renderRabbitmqConf,
} from "../../../components/render/rabbitmq";
import {
  redisMaxmemoryBytes,
  renderRedis,
  renderRedisAuthConf,
  renderRedisConf,
} from "../../../components/render/redis";
import { renderRuntimeClass } from "../../../components/render/runtimeClass";
import { renderTracker, TrackerRenderArgs } from "../../../components/render/tracker";
import { gatekeeperYaml } from "./helpers";

const MiB = 1024 * 1024;

describe("RuntimeClass", () => {
  it("is wasmedge, scheduled on Wasm nodes, with overhead", () => {
    const rc = renderRuntimeClass();
    expect(rc.metadata?.name).toBe("wasmedge");
    expect(rc.handler).toBe("wasmedge");
    expect(rc.scheduling?.nodeSelector).toEqual({ "edgefleet.dev/wasm": "true" });
    expect(rc.overhead?.podFixed).toEqual({ cpu: "10m", memory: "24Mi" });
  });
});

describe("tracker", () => {
  const p = PROFILES["factoryIiot"];
  const args: TrackerRenderArgs = {
    site: "f1",
    namespace: "edgefleet",
    image: "r.example/t:1",
    replicas: 2,
    hpaMaxReplicas: 6,
    targetCpuUtilizationPercent: 70,
    resources: p.tracker.resources,
    settings: p.tracker.settings,
    runtimeClassName: "wasmedge",
    sqliteHostPath: "/var/lib/industrial-iot",
    endpoints: { opa: "http://opa.edgefleet.svc:8181" },
  };
  const m = renderTracker(args);
  const pod = m.deployment.spec!.template.spec!;
  const c = pod.containers[0];

  it("runs under wasmedge on edge nodes with the profile's resources", () => {
    expect(pod.runtimeClassName).toBe("wasmedge");
    expect(pod.nodeSelector).toEqual({ "node-type": "edge" });
    expect(m.deployment.spec!.replicas).toBe(2);
    expect(c.resources).toEqual({ requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } });
  });

  it("is hardened", () => {
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it("spreads across nodes and probes HTTP", () => {
    expect(pod.topologySpreadConstraints?.[0]).toMatchObject({ maxSkew: 1, topologyKey: "kubernetes.io/hostname" });
    expect(c.readinessProbe?.httpGet).toMatchObject({ path: "/readyz", port: "http" });
    expect(c.livenessProbe?.httpGet).toMatchObject({ path: "/healthz", port: "http" });
  });

  it("mounts the factory SQLite hostPath as an existing directory", () => {
    expect(pod.volumes?.find((v) => v.name === "data")?.hostPath).toEqual({
      path: "/var/lib/industrial-iot",
      type: "Directory",
    });
    expect(c.volumeMounts?.find((v) => v.name === "data")?.mountPath).toBe("/data");
    const other = renderTracker({ ...args, sqliteHostPath: undefined });
    expect(other.deployment.spec!.template.spec!.volumes!.find((v) => v.name === "data")?.emptyDir).toBeDefined();
  });

  it("carries the cases' settings in the ConfigMap", () => {
    const d = m.configMap.data!;
    expect(d).toMatchObject({
      cache_enabled: "false",
      sync_enabled: "true",
      sync_interval: "300s",
      offline_mode: "true",
      local_storage: "true",
      database_path: "/data/industrial-iot.db",
      max_connections: "1000",
      query_timeout: "50ms",
      opa_url: "http://opa.edgefleet.svc:8181",
    });
    expect(JSON.parse(d["config.json"])).toMatchObject({
      database: { type: "sqlite", path: "/data/industrial-iot.db" },
      offline: { enabled: true, sync_interval: 300 },
    });
  });

  it("has PDB, HPA on CPU from the profile, Service, and a config hash", () => {
    expect(m.pdb.spec).toMatchObject({ maxUnavailable: 1 });
    expect(m.hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(m.hpa.spec!.metrics![0].resource).toEqual({
      name: "cpu",
      target: { type: "Utilization", averageUtilization: 70 },
    });
    expect(m.service.spec!.ports![0]).toMatchObject({ port: 80, targetPort: "http" });
    expect(m.deployment.spec!.template.metadata!.annotations!["edgefleet.dev/config-hash"]).toMatch(/^[0-9a-f]{16}$/);
  });

  it("rejects an HPA max below the floor", () => {
    expect(() => renderTracker({ ...args, hpaMaxReplicas: 1 })).toThrow(/below minReplicas/);
  });
});

describe("redis", () => {
  it("derives maxmemory with headroom and evicts allkeys-lru", () => {
    expect(redisMaxmemoryBytes(512, "none")).toBe(384 * MiB);
    expect(redisMaxmemoryBytes(512, "aof")).toBe(256 * MiB);
    const conf = renderRedisConf({ memoryLimitMiB: 512, persistence: "none" });
    expect(conf).toContain(`maxmemory ${384 * MiB}\n`);
    expect(conf).toContain("maxmemory-policy allkeys-lru");
    expect(conf).toContain('save ""');
    expect(conf).toContain("appendonly no");
    expect(conf).not.toMatch(/requirepass/);
    expect(conf.trimEnd().split("\n").pop()).toBe("include /etc/redis/auth/auth.conf");
    expect(renderRedisConf({ memoryLimitMiB: 512, persistence: "aof" })).toContain("appendonly yes");
  });

  it("keeps the password out of argv: probes use REDISCLI_AUTH from the Secret", () => {
    const m = renderRedis({
      site: "s",
      namespace: "edgefleet",
      monitoringNamespace: "mon",
      persistence: "aof",
      resources: PROFILES["edgeGeneral"].extras.redis!.resources,
      storageGi: 2,
    });
    const [redis, exporter] = m.statefulSet.spec!.template.spec!.containers;
    expect(redis.image).toMatch(/^redis:7\.2\.\d+-alpine$/);
    expect(redis.env).toContainEqual({
      name: "REDISCLI_AUTH",
      valueFrom: { secretKeyRef: { name: "redis-auth", key: "password" } },
    });
    const probe = redis.readinessProbe!.exec!.command!.join(" ");
    expect(probe).toContain("redis-cli");
    expect(probe).not.toMatch(/-a |--pass|REDIS_PASSWORD/);
    expect(exporter.ports![0].containerPort).toBe(9121);
    expect(m.statefulSet.spec!.volumeClaimTemplates![0].spec!.resources!.requests).toEqual({ storage: "2Gi" });
    const ing = m.networkPolicy.spec!.ingress!;
    expect(ing[0].from).toEqual([
      {
        podSelector: { matchLabels: { "app.kubernetes.io/name": "tracker", "app.kubernetes.io/part-of": "edgefleet" } },
      },
    ]);
    expect(ing[0].ports).toEqual([{ protocol: "TCP", port: 6379 }]);
    expect(ing[1].ports).toEqual([{ protocol: "TCP", port: 9121 }]);
    expect(ing[1].from![0].namespaceSelector!.matchLabels).toEqual({ "kubernetes.io/metadata.name": "mon" });
  });

  it("refuses weak passwords in auth.conf", () => {
    expect(renderRedisAuthConf("A".repeat(32))).toBe(`requirepass ${"A".repeat(32)}\n`);
    expect(() => renderRedisAuthConf("short")).toThrow();
  });
});

describe("rabbitmq", () => {
  it("sets absolute thresholds from the memory limit", () => {
    const t = rabbitmqThresholds(1024);
    expect(t).toEqual({
      totalMemoryBytes: 1024 * MiB,
      watermarkBytes: Math.floor(1024 * MiB * 0.6),
      diskFreeLimitBytes: Math.floor(Math.floor(1024 * MiB * 0.6) * 1.5),
    });
    const conf = renderRabbitmqConf({ memoryLimitMiB: 1024, mqtt: true });
    expect(conf).toContain(`vm_memory_high_watermark.absolute = ${t.watermarkBytes}`);
    expect(conf).toContain(`disk_free_limit.absolute = ${t.diskFreeLimitBytes}`);
    expect(conf).toContain("mqtt.allow_anonymous = false");
    expect(renderRabbitmqConf({ memoryLimitMiB: 1024, mqtt: false })).not.toMatch(/mqtt|ssl/);
  });

  it("MQTT is TLS on 8883 with the mounted certificate; plain 1883 only when asked", () => {
    const conf = renderRabbitmqConf({ memoryLimitMiB: 1024, mqtt: true });
    expect(conf).toContain("mqtt.listeners.ssl.default = 8883");
    // Without this line the plugin would listen on 1883 by its own default.
    expect(conf).toContain("mqtt.listeners.tcp = none");
    expect(conf).not.toMatch(/1883/);
    expect(conf).toContain("ssl_options.cacertfile = /etc/rabbitmq-tls/ca.crt");
    expect(conf).toContain("ssl_options.certfile = /etc/rabbitmq-tls/tls.crt");
    expect(conf).toContain("ssl_options.keyfile = /etc/rabbitmq-tls/tls.key");
    expect(conf).toMatch(/ssl_options\.versions\.1 = tlsv1\.3\nssl_options\.versions\.2 = tlsv1\.2\n/);
    expect(conf).not.toMatch(/tlsv1\.1|tlsv1$/m);
    const plain = renderRabbitmqConf({ memoryLimitMiB: 1024, mqtt: true, mqttPlaintext: true });
    expect(plain).toContain("mqtt.listeners.tcp.default = 1883");
    expect(plain).toContain("mqtt.listeners.ssl.default = 8883");
    expect(plain).not.toContain("mqtt.listeners.tcp = none");
  });

  it("makes each device its own user, held to its own queues and topics", () => {
    const u = deviceUser("sensor-1", "P".repeat(32));
    expect(u).toEqual({
      name: "sensor-1",
      password: "P".repeat(32),
      configure: "^mqtt-subscription-sensor-1qos[01]$",
      write: "^(amq\\.topic|mqtt-subscription-sensor-1qos[01])$",
      read: "^(amq\\.topic|mqtt-subscription-sensor-1qos[01])$",
      topics: { write: "^devices\\.sensor-1(\\..*)?$", read: "^devices\\.sensor-1(\\..*)?$" },
    });
    const topic = new RegExp(u.topics!.write);
    expect(topic.test("devices.sensor-1")).toBe(true);
    expect(topic.test("devices.sensor-1.temp")).toBe(true);
    expect(topic.test("devices.sensor-1.#")).toBe(true);
    expect(topic.test("devices.sensor-10.temp")).toBe(false);
    expect(topic.test("devices.sensor-2.temp")).toBe(false);
    expect(topic.test("devices.#")).toBe(false);
    expect(topic.test("#")).toBe(false);
    expect(new RegExp(u.configure).test("mqtt-subscription-sensor-10qos1")).toBe(false);
    // Hostile names never reach a regex or the definitions.
    for (const bad of [".*", "a|b", "Sensor", "a.b", "-a", "x".repeat(64), "tracker", "guest", ""])
      expect(() => deviceUser(bad, "P".repeat(32))).toThrow(/device name/);
  });

  it("enables management, prometheus and (IoT) mqtt", () => {
    expect(renderEnabledPlugins(true)).toBe("[rabbitmq_management,rabbitmq_prometheus,rabbitmq_mqtt].\n");
    expect(renderEnabledPlugins(false)).toBe("[rabbitmq_management,rabbitmq_prometheus].\n");
  });

  it("defines app users and never guest", () => {
    const defs = JSON.parse(
      renderDefinitions(rabbitUsers({ tracker: "T".repeat(32), devices: { a: "A".repeat(32), b: "B".repeat(32) } })),
    );
    expect(defs.users.map((u: { name: string }) => u.name)).toEqual(["tracker", "a", "b"]);
    expect(defs.vhosts).toEqual([{ name: "edgefleet" }]);
    // The tracker is the site's own service: no topic restriction; every device has one.
    expect(defs.topic_permissions.map((t: { user: string; exchange: string }) => [t.user, t.exchange])).toEqual([
      ["a", "amq.topic"],
      ["b", "amq.topic"],
    ]);
    expect(() => renderDefinitions(rabbitUsers({ tracker: "T".repeat(32), devices: { a: "short" } }))).toThrow(
      /user a: password/,
    );
    expect(() =>
      renderDefinitions([...rabbitUsers({ tracker: "T".repeat(32) }), ...rabbitUsers({ tracker: "U".repeat(32) })]),
    ).toThrow(/tracker is defined twice/);
    expect(() =>
      renderDefinitions([{ name: "guest", password: "G".repeat(32), configure: "", write: "", read: "" }]),
    ).toThrow(/guest/);
  });

  it("renders a TCP readiness probe, MQTT NodePorts, the TLS mount and a NetworkPolicy", () => {
    const m = renderRabbitmq({
      site: "s",
      namespace: "edgefleet",
      monitoringNamespace: "mon",
      mqtt: true,
      resources: PROFILES["retailCity"].extras.rabbitmq!.resources,
      storageGi: 2,
    });
    const c = m.statefulSet.spec!.template.spec!.containers[0];
    expect(c.image).toMatch(/^rabbitmq:3\.13\.\d+-management$/);
    expect(c.readinessProbe!.tcpSocket).toEqual({ port: "amqp" });
    expect(m.mqttService!.spec).toMatchObject({ type: "NodePort" });
    expect(m.mqttService!.spec!.ports).toEqual([
      { name: "mqtts", port: MQTT_TLS_PORT, targetPort: "mqtts", nodePort: MQTT_TLS_NODE_PORT },
    ]);
    expect(m.service.spec!.ports!.map((p) => p.port)).toEqual([5672, 15672, 15692]);
    const ports = m.networkPolicy.spec!.ingress!.flatMap((i) => i.ports!.map((p) => p.port));
    expect(ports).toEqual([5672, 15692, MQTT_TLS_PORT]);
    const pod = m.statefulSet.spec!.template.spec!;
    expect(pod.volumes).toContainEqual({
      name: "tls",
      secret: { secretName: RABBITMQ_TLS_SECRET, defaultMode: 0o440 },
    });
    expect(c.volumeMounts).toContainEqual({ name: "tls", mountPath: "/etc/rabbitmq-tls", readOnly: true });
    const plain = renderRabbitmq({
      site: "s",
      namespace: "edgefleet",
      monitoringNamespace: "mon",
      mqtt: true,
      mqttPlaintext: true,
      resources: PROFILES["retailCity"].extras.rabbitmq!.resources,
      storageGi: 2,
    });
    expect(plain.mqttService!.spec!.ports!.map((p) => [p.port, p.nodePort])).toEqual([
      [MQTT_TLS_PORT, MQTT_TLS_NODE_PORT],
      [MQTT_PLAINTEXT_PORT, MQTT_PLAINTEXT_NODE_PORT],
    ]);
    expect(plain.networkPolicy.spec!.ingress!.flatMap((i) => i.ports!.map((p) => p.port))).toEqual([
      5672,
      15692,
      MQTT_TLS_PORT,
      MQTT_PLAINTEXT_PORT,
    ]);
    const none = renderRabbitmq({
      site: "s",
      namespace: "edgefleet",
      monitoringNamespace: "mon",
      mqtt: false,
      resources: PROFILES["supplyChain"].extras.rabbitmq!.resources,
      storageGi: 4,
    });
    expect(none.mqttService).toBeUndefined();
    expect(none.statefulSet.spec!.template.spec!.volumes!.map((v) => v.name)).not.toContain("tls");
    expect(() =>
      renderRabbitmq({
        site: "s",
        namespace: "n",
        monitoringNamespace: "m",
        mqtt: false,
        resources: PROFILES["logisticsHub"].extras.rabbitmq!.resources,
        storageGi: 1,
      }),
    ).toThrow(/twice disk_free_limit/);
  });
});

describe("OPA server", () => {
  const m = renderOpa({
    site: "s",
    namespace: "edgefleet",
    monitoringNamespace: "mon",
    policyRego: "package industrial\n",
    resources: { requests: { cpuMillis: 25, memoryMiB: 48 }, limits: { cpuMillis: 100, memoryMiB: 128 } },
  });
  it("serves the policy with its own API locked to decisions", () => {
    const c = m.deployment.spec!.template.spec!.containers[0];
    expect(c.args).toEqual(expect.arrayContaining(["--server", "--addr=0.0.0.0:8181", "--authorization=basic"]));
    expect(m.configMap.data!["authz.rego"]).toBe("package industrial\n");
    expect(m.configMap.data!["system-authz.rego"]).toBe(OPA_SYSTEM_AUTHZ);
  });
  it("rejects policies under package system", () => {
    expect(() =>
      renderOpa({
        site: "s",
        namespace: "n",
        monitoringNamespace: "m",
        policyRego: "package system.x\n",
        resources: k8sSpec(),
      }),
    ).toThrow(/package system/);
  });
});

function k8sSpec() {
  return { requests: { cpuMillis: 1, memoryMiB: 1 }, limits: { cpuMillis: 1, memoryMiB: 1 } };
}

describe("k8sResources", () => {
  it("refuses requests above limits", () => {
    expect(() =>
      k8sResources({ requests: { cpuMillis: 2, memoryMiB: 1 }, limits: { cpuMillis: 1, memoryMiB: 1 } }),
    ).toThrow(/exceed/);
  });
});

describe("Loki", () => {
  it("is single-binary on the filesystem with retention", () => {
    const c = parse(renderLokiConfig({ retentionHours: 168 }));
    expect(c.common.storage.filesystem.chunks_directory).toBe("/loki/chunks");
    expect(c.schema_config.configs[0]).toMatchObject({ store: "tsdb", schema: "v13" });
    expect(c.limits_config.retention_period).toBe("168h");
    expect(c.compactor.retention_enabled).toBe(true);
  });
});

describe("Gatekeeper transform (upstream v3.23.1 manifest)", () => {
  const yaml = gatekeeperYaml();
  const small = {
    controllerReplicas: 1,
    controllerResources: { requests: { cpuMillis: 100, memoryMiB: 256 }, limits: { cpuMillis: 300, memoryMiB: 384 } },
    auditResources: { requests: { cpuMillis: 50, memoryMiB: 192 }, limits: { cpuMillis: 200, memoryMiB: 384 } },
    validatingFailurePolicy: "Fail" as const,
    auditIntervalSeconds: 300,
  };
  const objs = transformGatekeeper(yaml, small);
  const get = (kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name)!;

  it("keeps every upstream object (CRDs included)", () => {
    expect(objs.filter((o) => o.kind === "CustomResourceDefinition").length).toBe(17);
  });

  it("sets replicas, resources, pull policy and audit interval", () => {
    const ctl = get("Deployment", "gatekeeper-controller-manager");
    expect(ctl.spec.replicas).toBe(1);
    const c = ctl.spec.template.spec.containers[0];
    expect(c.resources).toEqual({
      requests: { cpu: "100m", memory: "256Mi" },
      limits: { cpu: "300m", memory: "384Mi" },
    });
    expect(c.imagePullPolicy).toBe("IfNotPresent");
    expect(c.image).toBe("openpolicyagent/gatekeeper:v3.23.1");
    const audit = get("Deployment", "gatekeeper-audit").spec.template.spec.containers[0];
    expect(audit.args).toContain("--audit-interval=300");
  });

  it("sets the validating failurePolicy and lets a one-replica site drain", () => {
    const vwc = get("ValidatingWebhookConfiguration", "gatekeeper-validating-webhook-configuration");
    expect(vwc.webhooks.find((w: { name: string }) => w.name === "validation.gatekeeper.sh").failurePolicy).toBe(
      "Fail",
    );
    expect(get("PodDisruptionBudget", "gatekeeper-controller-manager").spec).toMatchObject({ maxUnavailable: 1 });
    expect(get("PodDisruptionBudget", "gatekeeper-controller-manager").spec.minAvailable).toBeUndefined();
  });

  it("rejects a manifest of another version, or of another image (the allowed registries admit this one)", () => {
    expect(() => transformGatekeeper(yaml.replace(/v3\.23\.1/g, "v3.15.0"), small)).toThrow(
      /not the pinned openpolicyagent\/gatekeeper:v3.23.1/,
    );
    expect(() =>
      transformGatekeeper(yaml.replace(/openpolicyagent\/gatekeeper:/g, "example/gatekeeper:"), small),
    ).toThrow(/example\/gatekeeper:v3.23.1 is not the pinned openpolicyagent\/gatekeeper:v3.23.1/);
  });

  it("rewrites images to an offline registry mirror", () => {
    const o = transformGatekeeper(yaml, { ...small, imageRegistry: "mirror.local:5000" });
    const ctl = o.find((x) => x.kind === "Deployment" && x.metadata.name === "gatekeeper-controller-manager")!;
    expect(ctl.spec.template.spec.containers[0].image).toBe("mirror.local:5000/openpolicyagent/gatekeeper:v3.23.1");
  });

  it("parses the release once, and one site's changes never reach the next site's copy", () => {
    transformGatekeeper(yaml, { ...small, controllerReplicas: 3, imageRegistry: "mirror.local:5000" });
    const again = transformGatekeeper(yaml, small);
    const ctl = again.find((x) => x.kind === "Deployment" && x.metadata.name === "gatekeeper-controller-manager")!;
    expect(ctl.spec.replicas).toBe(1);
    expect(ctl.spec.template.spec.containers[0].image).toBe("openpolicyagent/gatekeeper:v3.23.1");
    expect(parseManifest(yaml)).not.toBe(parseManifest(yaml));
  });

  it("waits for templates and checks constraint kinds", () => {
    const tpl = {
      apiVersion: "templates.gatekeeper.sh/v1",
      kind: "ConstraintTemplate",
      metadata: { name: "k8srequiredresources" },
      spec: { crd: { spec: { names: { kind: "K8sRequiredResources" } } } },
    };
    expect(prepareTemplates([tpl])[0].metadata.annotations["pulumi.com/waitFor"]).toBe(
      "jsonpath={.status.created}=true",
    );
    expect(() =>
      checkConstraints(
        [{ apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "K8sRequiredResources", metadata: { name: "x" } }],
        [tpl],
      ),
    ).not.toThrow();
    expect(() =>
      checkConstraints(
        [{ apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "Other", metadata: { name: "x" } }],
        [tpl],
      ),
    ).toThrow(/no ConstraintTemplate defines kind Other/);
  });
});
