import {
  appLabels,
  type ConfigMapManifest,
  hardenedContainerSecurity,
  k8sResources,
  type NetworkPolicyManifest,
  type ResourceSpec,
  selectorLabels,
  type ServiceManifest,
  type StatefulSetManifest,
  withConfigHash,
  dataVolumeClaim,
} from "./common";
import { MiB } from "../../config/quantity";
import { prometheusPeer } from "./redis";
import { TRACKER_APP } from "./tracker";

export const RABBITMQ_APP = "rabbitmq";
/** Official image, pinned; the -management variant ships the management plugin's UI assets. */
export const RABBITMQ_IMAGE = "rabbitmq:3.13.7-management";
const RABBITMQ_UID = 999;
export const AMQP_PORT = 5672;
/** MQTT over TLS, always on where MQTT is (IANA's secure-mqtt port). */
export const MQTT_TLS_PORT = 8883;
export const MQTT_TLS_NODE_PORT = 30883;
/** Plain MQTT, only where a stack sets mqtt.plaintext: true. */
export const MQTT_PLAINTEXT_PORT = 1883;
export const MQTT_PLAINTEXT_NODE_PORT = 31883;
/** Secret (kubernetes.io/tls) with the broker's tls.crt, tls.key and the CA's ca.crt. */
export const RABBITMQ_TLS_SECRET = "rabbitmq-mqtt-tls";
export const RABBITMQ_TLS_DIR = "/etc/rabbitmq-tls";
/** Secret with each device's password under "<device>.password", for provisioning tools at the site. */
export const RABBITMQ_DEVICES_SECRET = "rabbitmq-mqtt-devices";
/** MQTT topics a device owns: devices/<its name>/... (RabbitMQ sees "/" as "." in routing keys). */
export const DEVICE_TOPIC_ROOT = "devices";
/** A device name: a DNS label, so it is a safe literal in permission regexes and a routing-key word. */
export const DEVICE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Users the site's broker has for itself: no device may take their names. */
export const RESERVED_RABBIT_USERS = ["tracker", "guest"] as const;
export const RABBITMQ_PROMETHEUS_PORT = 15692;
export const RABBITMQ_MANAGEMENT_PORT = 15672;
export const RABBITMQ_DEFINITIONS_SECRET = "rabbitmq-definitions";
export const RABBITMQ_VHOST = "edgefleet";

/**
 * Memory and disk thresholds from the container's memory limit:
 * - the high watermark is 60% of the limit: the Erlang VM allocates in
 *   carriers and can overshoot the watermark before flow control bites, and
 *   the rest of the limit holds the management plugin's stats and GC peaks;
 * - the total-memory override tells RabbitMQ the limit (3.13 reads cgroups
 *   too, older releases would read the node's RAM);
 * - disk_free_limit is 1.5 x the watermark (RabbitMQ's production guidance),
 *   so a memory-full node can still page messages to disk.
 */
export function rabbitmqThresholds(memoryLimitMiB: number) {
  const limitBytes = memoryLimitMiB * MiB;
  const watermark = Math.floor(limitBytes * 0.6);
  return { totalMemoryBytes: limitBytes, watermarkBytes: watermark, diskFreeLimitBytes: Math.floor(watermark * 1.5) };
}

export interface RabbitConfArgs {
  memoryLimitMiB: number;
  mqtt: boolean;
  /** Plain MQTT on 1883 beside TLS on 8883. @default false */
  mqttPlaintext?: boolean;
  definitionsPath?: string;
  /** Where ca.crt, tls.crt and tls.key are. @default RABBITMQ_TLS_DIR */
  tlsDir?: string;
}

export function renderRabbitmqConf(a: RabbitConfArgs): string {
  const t = rabbitmqThresholds(a.memoryLimitMiB);
  const lines = [
    "# Rendered by Edgefleet components/render/rabbitmq.ts",
    `listeners.tcp.default = ${AMQP_PORT}`,
    // guest may never connect from the network; the definitions below do not create it.
    "loopback_users.guest = true",
    `load_definitions = ${a.definitionsPath ?? "/etc/rabbitmq-definitions/definitions.json"}`,
    `total_memory_available_override_value = ${t.totalMemoryBytes}`,
    `vm_memory_high_watermark.absolute = ${t.watermarkBytes}`,
    `disk_free_limit.absolute = ${t.diskFreeLimitBytes}`,
    "log.console = true",
    "log.console.level = info",
    "log.file = false",
    // Small nodes: keep management stats cheap; Prometheus does the history.
    "management.rates_mode = none",
    "management_agent.disable_metrics_collector = true",
    `management.tcp.port = ${RABBITMQ_MANAGEMENT_PORT}`,
    `prometheus.tcp.port = ${RABBITMQ_PROMETHEUS_PORT}`,
  ];
  if (a.mqtt) {
    const tls = a.tlsDir ?? RABBITMQ_TLS_DIR;
    lines.push(
      `mqtt.listeners.ssl.default = ${MQTT_TLS_PORT}`,
      // The plugin listens on 1883 unless told otherwise: "none" is what keeps plain MQTT shut.
      a.mqttPlaintext ? `mqtt.listeners.tcp.default = ${MQTT_PLAINTEXT_PORT}` : "mqtt.listeners.tcp = none",
      `ssl_options.cacertfile = ${tls}/ca.crt`,
      `ssl_options.certfile = ${tls}/tls.crt`,
      `ssl_options.keyfile = ${tls}/tls.key`,
      // Devices log in with their own user and password over the encrypted channel; no client certificates are issued.
      "ssl_options.verify = verify_none",
      "ssl_options.fail_if_no_peer_cert = false",
      "ssl_options.versions.1 = tlsv1.3",
      "ssl_options.versions.2 = tlsv1.2",
      "mqtt.allow_anonymous = false",
      `mqtt.vhost = ${RABBITMQ_VHOST}`,
      "mqtt.exchange = amq.topic",
    );
  }
  return lines.join("\n") + "\n";
}

export function rabbitmqPlugins(mqtt: boolean): string[] {
  return ["rabbitmq_management", "rabbitmq_prometheus", ...(mqtt ? ["rabbitmq_mqtt"] : [])];
}

export function renderEnabledPlugins(mqtt: boolean): string {
  return `[${rabbitmqPlugins(mqtt).join(",")}].\n`;
}

export interface RabbitUser {
  name: string;
  password: string;
  /** Regexes on resource names, RabbitMQ's permission model. */
  configure: string;
  write: string;
  read: string;
  /** Routing-key regexes on amq.topic (topic authorisation); absent = any topic. */
  topics?: { write: string; read: string };
}

/**
 * definitions.json: the vhost, the application's users and their
 * permissions. No `guest` user. Passwords go in as `password` (hashed by
 * RabbitMQ on import); the file lives in a Secret.
 */
export function renderDefinitions(users: RabbitUser[]): string {
  if (users.some((u) => u.name === "guest")) throw new Error("the guest user is not allowed");
  const names = users.map((u) => u.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`user ${twice} is defined twice`);
  for (const u of users) {
    if (!/^[A-Za-z0-9]{16,}$/.test(u.password)) throw new Error(`user ${u.name}: password must be >= 16 alphanumerics`);
  }
  return (
    JSON.stringify(
      {
        users: users.map((u) => ({ name: u.name, password: u.password, tags: [] })),
        vhosts: [{ name: RABBITMQ_VHOST }],
        permissions: users.map((u) => ({
          user: u.name,
          vhost: RABBITMQ_VHOST,
          configure: u.configure,
          write: u.write,
          read: u.read,
        })),
        topic_permissions: users
          .filter((u) => u.topics)
          .map((u) => ({ user: u.name, vhost: RABBITMQ_VHOST, exchange: "amq.topic", ...u.topics })),
      },
      null,
      2,
    ) + "\n"
  );
}

/**
 * A device's user: MQTT only, and only its own. Names are literal in the
 * regexes (a DNS label needs no escaping), which RabbitMQ's {username}
 * expansion would give for topics but not for queues:
 * - queues: the MQTT plugin names a session's queue
 *   mqtt-subscription-<client id>qos<0|1>, so a device can subscribe only with
 *   its own name as client id, and cannot take over another's session queue;
 * - topics (amq.topic, "/" read as "."): publish and subscribe under
 *   devices/<name>/ and nothing else.
 */
export function deviceUser(name: string, password: string): RabbitUser {
  if (!DEVICE_NAME.test(name)) throw new Error(`device name ${JSON.stringify(name)} is not a DNS label`);
  // A device named like the broker's own users would replace them on import.
  if ((RESERVED_RABBIT_USERS as readonly string[]).includes(name)) throw new Error(`device name ${name} is reserved`);
  const queue = `mqtt-subscription-${name}qos[01]`;
  const topic = `^${DEVICE_TOPIC_ROOT}\\.${name}(\\..*)?$`;
  return {
    name,
    password,
    configure: `^${queue}$`,
    write: `^(amq\\.topic|${queue})$`,
    read: `^(amq\\.topic|${queue})$`,
    topics: { write: topic, read: topic },
  };
}

/** The users a site gets: the tracker app (every topic: it is the site's own service), plus one user per MQTT device. */
export function rabbitUsers(passwords: { tracker: string; devices?: Record<string, string> }): RabbitUser[] {
  return [
    { name: "tracker", password: passwords.tracker, configure: ".*", write: ".*", read: ".*" },
    ...Object.entries(passwords.devices ?? {}).map(([name, pw]) => deviceUser(name, pw)),
  ];
}

export interface RabbitRenderArgs {
  site: string;
  namespace: string;
  monitoringNamespace: string;
  mqtt: boolean;
  /** Plain MQTT on 1883 (NodePort 31883) beside TLS on 8883. @default false */
  mqttPlaintext?: boolean;
  resources: ResourceSpec;
  storageGi: number;
  image?: string;
}

export interface RabbitManifests {
  configMap: ConfigMapManifest;
  statefulSet: StatefulSetManifest;
  service: ServiceManifest;
  mqttService?: ServiceManifest;
  networkPolicy: NetworkPolicyManifest;
}

export function renderRabbitmq(a: RabbitRenderArgs): RabbitManifests {
  const t = rabbitmqThresholds(a.resources.limits.memoryMiB);
  if (a.storageGi * 1024 * MiB < 2 * t.diskFreeLimitBytes) {
    throw new Error(`rabbitmq storage ${a.storageGi}Gi is under twice disk_free_limit (${t.diskFreeLimitBytes} bytes)`);
  }
  const labels = appLabels(RABBITMQ_APP, "queue", a.site);
  const selector = selectorLabels(RABBITMQ_APP);
  const meta = (name: string) => ({ name, namespace: a.namespace, labels });
  const ports = [
    { name: "amqp", containerPort: AMQP_PORT },
    { name: "management", containerPort: RABBITMQ_MANAGEMENT_PORT },
    { name: "prometheus", containerPort: RABBITMQ_PROMETHEUS_PORT },
    ...(a.mqtt ? [{ name: "mqtts", containerPort: MQTT_TLS_PORT }] : []),
    ...(a.mqtt && a.mqttPlaintext ? [{ name: "mqtt", containerPort: MQTT_PLAINTEXT_PORT }] : []),
  ];
  const mqttPorts = ports.filter((p) => p.name.startsWith("mqtt"));
  const ingress = [
    {
      from: [{ podSelector: { matchLabels: selectorLabels(TRACKER_APP) } }],
      ports: [{ protocol: "TCP", port: AMQP_PORT }],
    },
    { from: [prometheusPeer(a.monitoringNamespace)], ports: [{ protocol: "TCP", port: RABBITMQ_PROMETHEUS_PORT }] },
    // IoT devices are outside the cluster; MQTT itself authenticates them (anonymous is off).
    ...(a.mqtt ? [{ ports: mqttPorts.map((p) => ({ protocol: "TCP", port: p.containerPort })) }] : []),
  ];
  const out: RabbitManifests = {
    configMap: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta("rabbitmq-config"),
      data: {
        "rabbitmq.conf": renderRabbitmqConf({
          memoryLimitMiB: a.resources.limits.memoryMiB,
          mqtt: a.mqtt,
          mqttPlaintext: a.mqttPlaintext,
        }),
        enabled_plugins: renderEnabledPlugins(a.mqtt),
      },
    },
    statefulSet: {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta("rabbitmq"),
      spec: {
        serviceName: "rabbitmq",
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: { ...labels, ...selector } },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: 60,
            securityContext: { runAsNonRoot: true, fsGroup: RABBITMQ_UID, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "rabbitmq",
                image: a.image ?? RABBITMQ_IMAGE,
                imagePullPolicy: "IfNotPresent",
                ports,
                env: [
                  // Whole /etc/rabbitmq is our ConfigMap: the image's conf.d (which sets
                  // loopback_users.guest = false) is not mounted, so it cannot re-open guest.
                  { name: "RABBITMQ_CONFIG_FILE", value: "/etc/rabbitmq/rabbitmq.conf" },
                  { name: "RABBITMQ_ENABLED_PLUGINS_FILE", value: "/etc/rabbitmq/enabled_plugins" },
                ],
                resources: k8sResources(a.resources),
                securityContext: hardenedContainerSecurity(RABBITMQ_UID),
                readinessProbe: {
                  tcpSocket: { port: "amqp" },
                  periodSeconds: 10,
                  timeoutSeconds: 3,
                  failureThreshold: 3,
                },
                livenessProbe: {
                  tcpSocket: { port: "amqp" },
                  initialDelaySeconds: 60,
                  periodSeconds: 30,
                  timeoutSeconds: 5,
                  failureThreshold: 6,
                },
                volumeMounts: [
                  { name: "config", mountPath: "/etc/rabbitmq", readOnly: true },
                  { name: "definitions", mountPath: "/etc/rabbitmq-definitions", readOnly: true },
                  { name: "data", mountPath: "/var/lib/rabbitmq" },
                  { name: "tmp", mountPath: "/tmp" },
                  ...(a.mqtt ? [{ name: "tls", mountPath: RABBITMQ_TLS_DIR, readOnly: true }] : []),
                ],
              },
            ],
            volumes: [
              { name: "config", configMap: { name: "rabbitmq-config" } },
              { name: "definitions", secret: { secretName: RABBITMQ_DEFINITIONS_SECRET } },
              { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
              // 0440: readable by the broker through fsGroup, by nobody else.
              ...(a.mqtt ? [{ name: "tls", secret: { secretName: RABBITMQ_TLS_SECRET, defaultMode: 0o440 } }] : []),
            ],
          },
        },
        volumeClaimTemplates: [dataVolumeClaim(a.storageGi)],
      },
    },
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("rabbitmq"),
      spec: {
        selector,
        ports: ports
          .filter((p) => !p.name.startsWith("mqtt"))
          .map((p) => ({ name: p.name, port: p.containerPort, targetPort: p.name })),
      },
    },
    mqttService: a.mqtt
      ? {
          apiVersion: "v1",
          kind: "Service",
          metadata: meta("rabbitmq-mqtt"),
          // NodePort: the IoT profile's K3s runs without servicelb, so no LoadBalancer.
          spec: {
            type: "NodePort",
            selector,
            ports: mqttPorts.map((p) => ({
              name: p.name,
              port: p.containerPort,
              targetPort: p.name,
              nodePort: p.name === "mqtts" ? MQTT_TLS_NODE_PORT : MQTT_PLAINTEXT_NODE_PORT,
            })),
          },
        }
      : undefined,
    networkPolicy: {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta("rabbitmq"),
      spec: { podSelector: { matchLabels: selector }, policyTypes: ["Ingress"], ingress },
    },
  };
  withConfigHash(out.statefulSet, out.configMap);
  return out;
}
