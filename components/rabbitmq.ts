import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { generatedSecret } from "../lib/generatedSecret";
import { ServerCertificate } from "../lib/serverCertificate";
import { SiteCa } from "../lib/siteCa";
import { childOptions, K8sComponentArgs, withStorage } from "./k8sOptions";
import {
  AMQP_PORT,
  MQTT_PLAINTEXT_NODE_PORT,
  MQTT_PLAINTEXT_PORT,
  MQTT_TLS_NODE_PORT,
  MQTT_TLS_PORT,
  RABBITMQ_DEFINITIONS_SECRET,
  RABBITMQ_DEVICES_SECRET,
  RABBITMQ_TLS_SECRET,
  RABBITMQ_VHOST,
  RabbitRenderArgs,
  rabbitUsers,
  renderDefinitions,
  renderRabbitmq,
} from "./render/rabbitmq";

/** One MQTT device: its own RabbitMQ user, named as the device. */
export interface MqttDeviceArgs {
  name: string;
  /** The stack's password for it (a secret). @default generated (32 letters and digits, kept in state) */
  password?: pulumi.Input<string>;
  /** Raise to generate a new password (rotation); ignored with `password`. @default 0 */
  generation?: number;
}

/** The broker's MQTT side: who may log in, and the certificate it presents. */
export interface RabbitMqttArgs {
  /** @default [] (no device can log in until listed) */
  devices?: MqttDeviceArgs[];
  /** The stack's CA (cert and key PEM), which signs the broker's certificate. @default a CA generated for the site */
  ca?: { certPem: pulumi.Input<string>; privateKeyPem: pulumi.Input<string> };
  /** Raise to replace the generated site CA (every device must then get the new ca.crt). @default 0 */
  caGeneration?: number;
  /** Raise to re-issue the broker's certificate under the same CA. @default 0 */
  certificateGeneration?: number;
  /** DNS names beyond the in-cluster Service names that devices reach the broker by. @default [] */
  serverNames?: string[];
  /** IP addresses in the certificate: the site's node addresses, where the NodePort answers. @default [] */
  addresses?: string[];
}

export type RabbitMQArgs = K8sComponentArgs & RabbitRenderArgs & { mqttSettings?: RabbitMqttArgs };

export const RABBITMQ_APP_SECRET = "rabbitmq-tracker";

/** What a site's devices need: where to connect, the CA to trust, their credentials (the output is secret). */
export interface MqttEndpoint {
  tlsPort: number;
  tlsNodePort: number;
  /** Present only where plain MQTT is on. */
  plaintextPort?: number;
  plaintextNodePort?: number;
  caCertPem: string;
  devices: { name: string; username: string; password: string }[];
}

/** The in-cluster names of the broker's Services, for its certificate. */
export function brokerDnsNames(namespace: string): string[] {
  return ["rabbitmq-mqtt", "rabbitmq"].flatMap((svc) => [
    `${svc}.${namespace}.svc`,
    `${svc}.${namespace}.svc.cluster.local`,
    `${svc}.${namespace}`,
    svc,
  ]);
}

/** RabbitMQ 3.13 StatefulSet with definitions (app and device users, no guest), TLS for MQTT, Services and NetworkPolicy. */
export class RabbitMQ extends pulumi.ComponentResource {
  public readonly address: pulumi.Output<string>;
  /** Secret with the tracker's `url` (amqp://tracker:...@host:5672/edgefleet) and `password`. */
  public readonly appSecret = { name: RABBITMQ_APP_SECRET, key: "url" };
  /** Where MQTT sites' devices connect, the CA and their credentials; a secret output. */
  public readonly mqtt?: pulumi.Output<MqttEndpoint>;

  constructor(name: string, args: RabbitMQArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:components:RabbitMQ", name, {}, opts);
    const { provider, mqttSettings, ...rest } = args;
    const m = renderRabbitmq(rest);
    const o = childOptions(this, provider);
    const labels = m.statefulSet.metadata?.labels;
    const source = args.secrets ?? "openssh";
    const trackerPw = generatedSecret(source, `${name}-tracker-password`, 32, { parent: this });
    const settings = args.mqtt ? (mqttSettings ?? {}) : undefined;
    const devices = (settings?.devices ?? []).map((d) => ({
      name: d.name,
      password: d.password
        ? pulumi.secret(d.password)
        : generatedSecret(
            source,
            `${name}-device-${d.name}-password`,
            32,
            { parent: this },
            {
              generation: String(d.generation ?? 0),
            },
          ),
    }));
    const devicePasswords = pulumi
      .all(devices.map((d) => d.password))
      .apply((pws) => Object.fromEntries(devices.map((d, i) => [d.name, pws[i]])));
    const definitions = pulumi
      .all([trackerPw, devicePasswords])
      .apply(([tracker, byDevice]) => renderDefinitions(rabbitUsers({ tracker, devices: byDevice })));
    const defs = new k8s.core.v1.Secret(
      `${name}-definitions`,
      {
        metadata: { name: RABBITMQ_DEFINITIONS_SECRET, namespace: args.namespace, labels },
        stringData: { "definitions.json": definitions },
      },
      o,
    );
    const host = `rabbitmq.${args.namespace}.svc`;
    new k8s.core.v1.Secret(
      `${name}-tracker`,
      {
        metadata: { name: RABBITMQ_APP_SECRET, namespace: args.namespace, labels },
        stringData: {
          password: trackerPw,
          url: pulumi.interpolate`amqp://tracker:${trackerPw}@${host}:${AMQP_PORT}/${RABBITMQ_VHOST}`,
        },
      },
      o,
    );
    const dependsOn: pulumi.Resource[] = [defs];
    // Definitions are imported and certificates read at boot: a change of either must roll the pod.
    let restartOn: pulumi.Input<string> = definitions.apply(hash16);
    if (settings) {
      new k8s.core.v1.Secret(
        `${name}-devices`,
        {
          metadata: { name: RABBITMQ_DEVICES_SECRET, namespace: args.namespace, labels },
          stringData: devicePasswords.apply((byDevice) =>
            Object.fromEntries(Object.entries(byDevice).map(([d, pw]) => [`${d}.password`, pw])),
          ),
        },
        o,
      );
      const ca = settings.ca
        ? { certPem: pulumi.output(settings.ca.certPem), privateKeyPem: pulumi.secret(settings.ca.privateKeyPem) }
        : new SiteCa(
            `${name}-mqtt-ca`,
            { commonName: `Edgefleet ${args.site} MQTT CA`, generation: settings.caGeneration },
            { parent: this },
          );
      const cert = new ServerCertificate(
        `${name}-mqtt-cert`,
        {
          dnsNames: [...brokerDnsNames(args.namespace), ...(settings.serverNames ?? [])],
          ipAddresses: settings.addresses ?? [],
          caCertPem: ca.certPem,
          caPrivateKeyPem: ca.privateKeyPem,
          generation: settings.certificateGeneration,
        },
        { parent: this },
      );
      dependsOn.push(
        new k8s.core.v1.Secret(
          `${name}-mqtt-tls`,
          {
            metadata: { name: RABBITMQ_TLS_SECRET, namespace: args.namespace, labels },
            type: "kubernetes.io/tls",
            stringData: { "tls.crt": cert.certPem, "tls.key": cert.privateKeyPem, "ca.crt": ca.certPem },
          },
          o,
        ),
      );
      // The certificate is public; its hash stands for the key it was issued with.
      restartOn = pulumi.all([definitions, cert.certPem]).apply(([d, c]) => hash16(d + c));
      this.mqtt = pulumi.secret(
        pulumi.all([ca.certPem, devicePasswords]).apply(([caCertPem, byDevice]) => ({
          tlsPort: MQTT_TLS_PORT,
          tlsNodePort: MQTT_TLS_NODE_PORT,
          ...(args.mqttPlaintext
            ? { plaintextPort: MQTT_PLAINTEXT_PORT, plaintextNodePort: MQTT_PLAINTEXT_NODE_PORT }
            : {}),
          caCertPem,
          devices: Object.entries(byDevice).map(([d, password]) => ({ name: d, username: d, password })),
        })),
      );
    }
    const cm = new k8s.core.v1.ConfigMap(`${name}-config`, m.configMap, o);
    const sts = withStorage(m.statefulSet, args.ephemeralStorage);
    const tpl = sts.spec.template;
    new k8s.apps.v1.StatefulSet(
      name,
      {
        ...sts,
        spec: {
          ...sts.spec,
          template: {
            ...tpl,
            metadata: {
              ...tpl.metadata,
              // A hash of a document holding generated 32-character passwords gives none of them away.
              annotations: {
                ...tpl.metadata?.annotations,
                "edgefleet.dev/secrets-hash": pulumi.unsecret(pulumi.output(restartOn)),
              },
            },
          },
        },
      },
      childOptions(this, provider, { dependsOn: [...dependsOn, cm] }),
    );
    new k8s.core.v1.Service(name, m.service, o);
    if (m.mqttService) new k8s.core.v1.Service(`${name}-mqtt`, m.mqttService, o);
    new k8s.networking.v1.NetworkPolicy(name, m.networkPolicy, o);
    this.address = pulumi.output(`${host}:${AMQP_PORT}`);
    this.registerOutputs({ address: this.address, mqtt: this.mqtt });
  }
}

function hash16(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}
