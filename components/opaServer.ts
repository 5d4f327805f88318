import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { childOptions, K8sComponentArgs } from "./k8sOptions";
import { OPA_PORT, OpaRenderArgs, renderOpa } from "./render/opa";

export type OpaServerArgs = K8sComponentArgs & OpaRenderArgs;

/** OPA server carrying the application authorization policy, for the trackers to query. */
export class OpaServer extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;

  constructor(name: string, args: OpaServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:components:OpaServer", name, {}, opts);
    const { provider, ...rest } = args;
    const m = renderOpa(rest);
    const o = childOptions(this, provider);
    const cm = new k8s.core.v1.ConfigMap(`${name}-policies`, m.configMap, o);
    new k8s.apps.v1.Deployment(name, m.deployment, childOptions(this, provider, { dependsOn: [cm] }));
    const svc = new k8s.core.v1.Service(name, m.service, o);
    new k8s.networking.v1.NetworkPolicy(name, m.networkPolicy, o);
    this.url = pulumi.interpolate`http://${svc.metadata.name}.${args.namespace}.svc:${OPA_PORT}`;
    this.registerOutputs({ url: this.url });
  }
}
