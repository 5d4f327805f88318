import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { generatedSecret } from "../lib/generatedSecret";
import { childOptions, K8sComponentArgs, withStorage } from "./k8sOptions";
import {
  AMQP_PORT,
  RABBITMQ_DEFINITIONS_SECRET,
  RABBITMQ_VHOST,
  RabbitRenderArgs,
  rabbitUsers,
  renderDefinitions,
  renderRabbitmq,
} from "./render/rabbitmq";

export type RabbitMQArgs = K8sComponentArgs & RabbitRenderArgs;

export const RABBITMQ_APP_SECRET = "rabbitmq-tracker";

/** RabbitMQ 3.13 StatefulSet with definitions (app users, no guest), Services and NetworkPolicy. */
export class RabbitMQ extends pulumi.ComponentResource {
  public readonly address: pulumi.Output<string>;
  /** Secret with the tracker's `url` (amqp://tracker:...@host:5672/edgefleet) and `password`. */
  public readonly appSecret = { name: RABBITMQ_APP_SECRET, key: "url" };

  constructor(name: string, args: RabbitMQArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:components:RabbitMQ", name, {}, opts);
    const { provider, ...rest } = args;
    const m = renderRabbitmq(rest);
    const o = childOptions(this, provider);
    const labels = m.statefulSet.metadata?.labels;
    const trackerPw = generatedSecret(args.secrets ?? "openssh", `${name}-tracker-password`, 32, { parent: this });
    const devicesPw = args.mqtt
      ? generatedSecret(args.secrets ?? "openssh", `${name}-devices-password`, 32, { parent: this })
      : undefined;
    const definitions = pulumi
      .all([trackerPw, devicesPw])
      .apply(([tracker, devices]) => renderDefinitions(rabbitUsers(args.mqtt, { tracker, devices })));
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
    if (devicesPw) {
      new k8s.core.v1.Secret(
        `${name}-devices`,
        {
          metadata: { name: "rabbitmq-devices", namespace: args.namespace, labels },
          stringData: { username: "devices", password: devicesPw },
        },
        o,
      );
    }
    const cm = new k8s.core.v1.ConfigMap(`${name}-config`, m.configMap, o);
    new k8s.apps.v1.StatefulSet(
      name,
      withStorage(m.statefulSet, args.ephemeralStorage),
      childOptions(this, provider, { dependsOn: [defs, cm] }),
    );
    new k8s.core.v1.Service(name, m.service, o);
    if (m.mqttService) new k8s.core.v1.Service(`${name}-mqtt`, m.mqttService, o);
    new k8s.networking.v1.NetworkPolicy(name, m.networkPolicy, o);
    this.address = pulumi.output(`${host}:${AMQP_PORT}`);
    this.registerOutputs({ address: this.address });
  }
}
