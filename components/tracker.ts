import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { childOptions, K8sComponentArgs } from "./k8sOptions";
import { pinnedImage, type ImageRef } from "../config/image";
import { renderTracker, TrackerRenderArgs } from "./render/tracker";

export interface TrackerArgs extends K8sComponentArgs, Omit<TrackerRenderArgs, "image"> {
  image: ImageRef;
}

/** Tracker Deployment with its ConfigMap, Service, PodDisruptionBudget and HPA. */
export class Tracker extends pulumi.ComponentResource {
  public readonly deploymentName: pulumi.Output<string>;
  public readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: TrackerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:components:Tracker", name, {}, opts);
    const { provider, image, ...rest } = args;
    const m = renderTracker({ ...rest, image: pinnedImage(image) });
    const o = childOptions(this, provider);
    const cm = new k8s.core.v1.ConfigMap(`${name}-config`, m.configMap, o);
    // The HPA owns the replica count once the Deployment exists; without this,
    // every `up` would reset a scaled-out tracker to the HPA's minimum.
    const dep = new k8s.apps.v1.Deployment(
      name,
      m.deployment,
      childOptions(this, provider, { dependsOn: [cm], ignoreChanges: ["spec.replicas"] }),
    );
    const svc = new k8s.core.v1.Service(name, m.service, o);
    new k8s.policy.v1.PodDisruptionBudget(name, m.pdb, o);
    new k8s.autoscaling.v2.HorizontalPodAutoscaler(name, m.hpa, childOptions(this, provider, { dependsOn: [dep] }));
    this.deploymentName = dep.metadata.name;
    this.serviceName = svc.metadata.name;
    this.registerOutputs({ deploymentName: this.deploymentName, serviceName: this.serviceName });
  }
}
