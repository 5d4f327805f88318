import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { childOptions, K8sComponentArgs, withStorage } from "./k8sOptions";
import { LOKI_PORT, LokiRenderArgs, renderLoki } from "./render/loki";

export type LokiArgs = K8sComponentArgs & LokiRenderArgs;

/** Single-binary Loki for the factory profile's logs, behind a NetworkPolicy that admits its log shipper and Grafana. */
export class Loki extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;

  constructor(name: string, args: LokiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:components:Loki", name, {}, opts);
    const { provider, ...rest } = args;
    const m = renderLoki(rest);
    const o = childOptions(this, provider);
    const cm = new k8s.core.v1.ConfigMap(`${name}-config`, m.configMap, o);
    new k8s.apps.v1.StatefulSet(
      name,
      withStorage(m.statefulSet, args.ephemeralStorage),
      childOptions(this, provider, { dependsOn: [cm] }),
    );
    const svc = new k8s.core.v1.Service(name, m.service, o);
    new k8s.networking.v1.NetworkPolicy(name, m.networkPolicy, o);
    this.url = pulumi.interpolate`http://${svc.metadata.name}.${args.namespace}.svc:${LOKI_PORT}`;
    this.registerOutputs({ url: this.url });
  }
}
