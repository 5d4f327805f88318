import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { childOptions, K8sComponentArgs, withStorage } from "./k8sOptions";
import { PROMETHEUS_PORT, PrometheusRenderArgs, renderPrometheus, renderRules, RulesArgs } from "./render/prometheus";

export interface PrometheusArgs extends K8sComponentArgs, PrometheusRenderArgs {
  rules: RulesArgs;
}

/** Prometheus (server or agent) with its RBAC, config, SLO rules and Service. */
export class Prometheus extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;

  constructor(name: string, args: PrometheusArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:components:Prometheus", name, {}, opts);
    const { provider, rules, ...rest } = args;
    const m = renderPrometheus(rest, renderRules(rules));
    const o = childOptions(this, provider);
    const sa = new k8s.core.v1.ServiceAccount(name, m.serviceAccount, o);
    const role = new k8s.rbac.v1.ClusterRole(name, m.clusterRole, o);
    const binding = new k8s.rbac.v1.ClusterRoleBinding(
      name,
      m.clusterRoleBinding,
      childOptions(this, provider, { dependsOn: [sa, role] }),
    );
    const cm = new k8s.core.v1.ConfigMap(`${name}-config`, m.configMap, o);
    new k8s.apps.v1.StatefulSet(
      name,
      withStorage(m.statefulSet, args.ephemeralStorage),
      childOptions(this, provider, { dependsOn: [cm, binding] }),
    );
    const svc = new k8s.core.v1.Service(name, m.service, o);
    this.url = pulumi.interpolate`http://${svc.metadata.name}.${args.namespace}.svc:${PROMETHEUS_PORT}`;
    this.registerOutputs({ url: this.url });
  }
}
