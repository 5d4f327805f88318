import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { generatedSecret } from "../lib/generatedSecret";
import { childOptions, K8sComponentArgs } from "./k8sOptions";
import { GRAFANA_ADMIN_SECRET, GrafanaRenderArgs, renderGrafana } from "./render/grafana";

export type GrafanaArgs = K8sComponentArgs & GrafanaRenderArgs;

/**
 * Grafana with provisioned Prometheus (and, given lokiUrl, Loki) datasources,
 * the tracker dashboard and a random admin password.
 */
export class Grafana extends pulumi.ComponentResource {
  public readonly adminPassword: pulumi.Output<string>;

  constructor(name: string, args: GrafanaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:components:Grafana", name, {}, opts);
    const { provider, ...rest } = args;
    const m = renderGrafana(rest);
    const o = childOptions(this, provider);
    this.adminPassword = generatedSecret(args.secrets ?? "openssh", `${name}-admin-password`, 32, { parent: this });
    const secret = new k8s.core.v1.Secret(
      `${name}-admin`,
      {
        metadata: { name: GRAFANA_ADMIN_SECRET, namespace: args.namespace, labels: m.deployment.metadata?.labels },
        stringData: { password: this.adminPassword },
      },
      o,
    );
    const cms = [
      new k8s.core.v1.ConfigMap(`${name}-provisioning`, m.configMap, o),
      new k8s.core.v1.ConfigMap(`${name}-dashboards`, m.dashboards, o),
    ];
    new k8s.apps.v1.Deployment(name, m.deployment, childOptions(this, provider, { dependsOn: [secret, ...cms] }));
    new k8s.core.v1.Service(name, m.service, o);
    this.registerOutputs({ adminPassword: this.adminPassword });
  }
}
