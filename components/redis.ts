import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { generatedSecret } from "../lib/generatedSecret";
import { childOptions, K8sComponentArgs, withStorage } from "./k8sOptions";
import { REDIS_AUTH_SECRET, REDIS_PORT, renderRedis, renderRedisAuthConf, RedisRenderArgs } from "./render/redis";

export type RedisArgs = K8sComponentArgs & RedisRenderArgs;

/** Redis 7.2 StatefulSet with its password Secret, exporter sidecar, Service and NetworkPolicy. */
export class Redis extends pulumi.ComponentResource {
  /** host:port for the trackers. */
  public readonly address: pulumi.Output<string>;
  /** Secret (name/key) holding the password, for the trackers' env. */
  public readonly passwordSecret = { name: REDIS_AUTH_SECRET, key: "password" };

  constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:components:Redis", name, {}, opts);
    const { provider, ...rest } = args;
    const m = renderRedis(rest);
    const o = childOptions(this, provider);
    const password = generatedSecret(args.secrets ?? "openssh", `${name}-password`, 32, { parent: this });
    const secret = new k8s.core.v1.Secret(
      `${name}-auth`,
      {
        metadata: { name: REDIS_AUTH_SECRET, namespace: args.namespace, labels: m.statefulSet.metadata?.labels },
        type: "Opaque",
        stringData: { password, "auth.conf": password.apply(renderRedisAuthConf) },
      },
      o,
    );
    const cm = new k8s.core.v1.ConfigMap(`${name}-config`, m.configMap, o);
    new k8s.apps.v1.StatefulSet(
      name,
      withStorage(m.statefulSet, args.ephemeralStorage),
      childOptions(this, provider, { dependsOn: [secret, cm] }),
    );
    const svc = new k8s.core.v1.Service(name, m.service, o);
    new k8s.networking.v1.NetworkPolicy(name, m.networkPolicy, o);
    this.address = pulumi.interpolate`${svc.metadata.name}.${args.namespace}.svc:${REDIS_PORT}`;
    this.registerOutputs({ address: this.address });
  }
}
