import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { childOptions, K8sComponentArgs } from "./k8sOptions";
import { LogShipperRenderArgs, renderLogShipper } from "./render/logShipper";

export type LogShipperArgs = K8sComponentArgs & LogShipperRenderArgs;

/**
 * Fluent Bit on every node, shipping container logs to the site's Loki: a
 * DaemonSet with its config, a ServiceAccount bound to nothing, a
 * NetworkPolicy that lets it reach Loki and DNS only, and the node-agent
 * PriorityClass that keeps its pod from waiting behind trackers.
 */
export class LogShipper extends pulumi.ComponentResource {
  public readonly daemonSetName: pulumi.Output<string>;

  constructor(name: string, args: LogShipperArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:components:LogShipper", name, {}, opts);
    const { provider, ...rest } = args;
    const m = renderLogShipper(rest);
    const o = childOptions(this, provider);
    const sa = new k8s.core.v1.ServiceAccount(name, m.serviceAccount, o);
    const cm = new k8s.core.v1.ConfigMap(`${name}-config`, m.configMap, o);
    // The API server refuses updates of value and preemptionPolicy, and the name is fixed:
    // a change can only be a delete, then a create.
    const pc = new k8s.scheduling.v1.PriorityClass(
      `${name}-priority`,
      m.priorityClass,
      childOptions(this, provider, { replaceOnChanges: ["value", "preemptionPolicy"], deleteBeforeReplace: true }),
    );
    // The API server refuses pods naming a PriorityClass it does not have yet.
    const ds = new k8s.apps.v1.DaemonSet(name, m.daemonSet, childOptions(this, provider, { dependsOn: [sa, cm, pc] }));
    new k8s.networking.v1.NetworkPolicy(name, m.networkPolicy, o);
    this.daemonSetName = ds.metadata.name;
    this.registerOutputs({ daemonSetName: this.daemonSetName });
  }
}
