import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** Every Edgefleet site component takes the site cluster's provider explicitly. */
export interface K8sComponentArgs {
  provider: k8s.Provider;
}

export function childOptions(
  parent: pulumi.Resource,
  provider: k8s.Provider,
  extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
  return { ...extra, parent, provider };
}
