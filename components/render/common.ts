import { createHash } from "crypto";
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { cpuQuantity, memoryQuantity } from "../../config/quantity";
import type { ResourceSpec } from "../../config/sizeClasses";

/**
 * Plain (no Output/Promise anywhere) shape of a Kubernetes input type. Render
 * functions return these so tests can read every field without mocks, and the
 * same value is accepted as resource args because plain values are Inputs.
 */
export type Plain<T> = pulumi.Unwrap<T>;

export type DeploymentManifest = Plain<k8s.types.input.apps.v1.Deployment>;
export type StatefulSetManifest = Plain<k8s.types.input.apps.v1.StatefulSet>;
export type DaemonSetManifest = Plain<k8s.types.input.apps.v1.DaemonSet>;
export type ServiceManifest = Plain<k8s.types.input.core.v1.Service>;
export type ConfigMapManifest = Plain<k8s.types.input.core.v1.ConfigMap>;
export type NetworkPolicyManifest = Plain<k8s.types.input.networking.v1.NetworkPolicy>;
export type NetworkPolicyPeerManifest = Plain<k8s.types.input.networking.v1.NetworkPolicyPeer>;
export type PdbManifest = Plain<k8s.types.input.policy.v1.PodDisruptionBudget>;
export type HpaManifest = Plain<k8s.types.input.autoscaling.v2.HorizontalPodAutoscaler>;
export type RuntimeClassManifest = Plain<k8s.types.input.node.v1.RuntimeClass>;
export type PriorityClassManifest = Plain<k8s.types.input.scheduling.v1.PriorityClass>;
export type ServiceAccountManifest = Plain<k8s.types.input.core.v1.ServiceAccount>;
export type ClusterRoleManifest = Plain<k8s.types.input.rbac.v1.ClusterRole>;
export type ClusterRoleBindingManifest = Plain<k8s.types.input.rbac.v1.ClusterRoleBinding>;
export type ContainerManifest = Plain<k8s.types.input.core.v1.Container>;
export type PodSpecManifest = Plain<k8s.types.input.core.v1.PodSpec>;
export type SecurityContextManifest = Plain<k8s.types.input.core.v1.SecurityContext>;
export type ResourceRequirementsManifest = Plain<k8s.types.input.core.v1.ResourceRequirements>;

export type { ResourceSpec } from "../../config/sizeClasses";

export function k8sResources(spec: ResourceSpec): ResourceRequirementsManifest {
  if (spec.requests.cpuMillis > spec.limits.cpuMillis || spec.requests.memoryMiB > spec.limits.memoryMiB) {
    throw new Error(
      `requests (${spec.requests.cpuMillis}m/${spec.requests.memoryMiB}Mi) exceed limits ` +
        `(${spec.limits.cpuMillis}m/${spec.limits.memoryMiB}Mi)`,
    );
  }
  return {
    requests: { cpu: cpuQuantity(spec.requests.cpuMillis), memory: memoryQuantity(spec.requests.memoryMiB) },
    limits: { cpu: cpuQuantity(spec.limits.cpuMillis), memory: memoryQuantity(spec.limits.memoryMiB) },
  };
}

/**
 * The hardened container securityContext every Edgefleet workload uses (the
 * Kubernetes "restricted" Pod Security Standard plus a read-only root).
 */
export function hardenedContainerSecurity(uid: number): SecurityContextManifest {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export function appLabels(app: string, component: string, site: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": app,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": "edgefleet",
    "app.kubernetes.io/managed-by": "pulumi",
    "edgefleet.dev/site": site,
  };
}

/** The subset of labels used as selectors: stable across upgrades. */
export function selectorLabels(app: string): Record<string, string> {
  return { "app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "edgefleet" };
}

/** A NetworkPolicy peer: the pods of one of our apps, in the namespace it runs in. */
export function appPeer(namespace: string, app: string): NetworkPolicyPeerManifest {
  return {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
    podSelector: { matchLabels: selectorLabels(app) },
  };
}

/**
 * Stamps a hash of the given ConfigMaps on a workload's pod template, so a
 * config change rolls the pods (subPath mounts and env never refresh).
 */
/** The one PersistentVolumeClaim template a StatefulSet here keeps its data in ("data", RWO). */
export function dataVolumeClaim(storageGi: number) {
  return {
    metadata: { name: "data" },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${storageGi}Gi` } } },
  };
}

export function withConfigHash<T extends DeploymentManifest | StatefulSetManifest | DaemonSetManifest>(
  workload: T,
  ...maps: ConfigMapManifest[]
): T {
  const h = createHash("sha256");
  for (const m of maps) h.update(JSON.stringify(m.data ?? {}));
  const tpl = workload.spec!.template;
  tpl.metadata = {
    ...(tpl.metadata ?? {}),
    annotations: { ...(tpl.metadata?.annotations ?? {}), "edgefleet.dev/config-hash": h.digest("hex").slice(0, 16) },
  };
  return workload;
}
