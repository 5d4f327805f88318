import * as k8s from "@pulumi/kubernetes";
import type { HostTransport } from "../config/schema";
import * as pulumi from "@pulumi/pulumi";

/** Every Edgefleet site component takes the site cluster's provider explicitly. */
export interface K8sComponentArgs {
  provider: k8s.Provider;
  /**
   * Keep StatefulSet data in emptyDir volumes instead of PersistentVolumeClaims:
   * for clusters with no storage provisioner (simulated nodes), where a claim
   * would stay Pending and the StatefulSet never become ready.
   */
  ephemeralStorage?: boolean;
  /** Who makes generated passwords (edgefleet:hostTransport, lib/generatedSecret.ts). @default "openssh" */
  secrets?: HostTransport;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The StatefulSet with each volumeClaimTemplate turned into an emptyDir of the
 * claim's requested size, when asked; otherwise unchanged.
 */
export function withStorage(sts: Record<string, any>, ephemeral: boolean | undefined): Record<string, any> {
  const claims: any[] = sts.spec?.volumeClaimTemplates ?? [];
  if (!ephemeral || claims.length === 0) return sts;
  const copy = structuredClone(sts);
  delete copy.spec.volumeClaimTemplates;
  const pod = copy.spec.template.spec;
  pod.volumes = [
    ...(pod.volumes ?? []),
    ...claims.map((c) => ({ name: c.metadata.name, emptyDir: { sizeLimit: c.spec?.resources?.requests?.storage } })),
  ];
  return copy;
}

export function childOptions(
  parent: pulumi.Resource,
  provider: k8s.Provider,
  extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
  return { ...extra, parent, provider };
}
