/**
 * The Pod a Kubernetes resource would create, from its Pulumi type and props
 * (CrossGuard hands policies the resource's inputs, which have the manifest's
 * shape). Gatekeeper's ExpansionTemplates (gatekeeper/expansion) map the same
 * kinds to the same Pod template, so both enforcement points judge the same Pod.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
export type Obj = Record<string, any>;

export interface Container {
  name?: string;
  image?: unknown;
  resources?: { requests?: Obj; limits?: Obj };
  securityContext?: Obj;
  env?: Obj[];
  volumeMounts?: Obj[];
  readinessProbe?: unknown;
  livenessProbe?: unknown;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Obj[];
  runtimeClassName?: string;
  nodeSelector?: Record<string, string>;
}

export interface Workload {
  /** Kubernetes kind: Deployment, StatefulSet, ..., Pod. */
  kind: string;
  name: string;
  namespace?: string;
  /** The workload object's own labels. */
  labels: Record<string, string>;
  /** Labels of the Pods it creates (the Pod template's). */
  podLabels: Record<string, string>;
  podSpec: PodSpec;
  /** Desired replicas where the kind has them (Kubernetes defaults to 1). */
  replicas?: number;
}

/** Pulumi Kubernetes resource type -> (kind, path to the Pod template). */
const POD_TEMPLATE_PATHS: Record<string, { kind: string; path: string[] }> = {
  "kubernetes:core/v1:Pod": { kind: "Pod", path: [] },
  "kubernetes:apps/v1:Deployment": { kind: "Deployment", path: ["spec", "template"] },
  "kubernetes:apps/v1:StatefulSet": { kind: "StatefulSet", path: ["spec", "template"] },
  "kubernetes:apps/v1:DaemonSet": { kind: "DaemonSet", path: ["spec", "template"] },
  "kubernetes:apps/v1:ReplicaSet": { kind: "ReplicaSet", path: ["spec", "template"] },
  "kubernetes:batch/v1:Job": { kind: "Job", path: ["spec", "template"] },
  "kubernetes:batch/v1:CronJob": { kind: "CronJob", path: ["spec", "jobTemplate", "spec", "template"] },
};

export const WORKLOAD_TYPES = Object.keys(POD_TEMPLATE_PATHS);

function dig(o: unknown, path: string[]): any {
  let cur: any = o;
  for (const k of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = cur[k];
  }
  return cur;
}

export function workloadOf(type: string, props: Obj, fallbackName = ""): Workload | undefined {
  const entry = POD_TEMPLATE_PATHS[type];
  if (!entry) return undefined;
  const template = entry.path.length === 0 ? props : dig(props, entry.path);
  const replicas = dig(props, ["spec", "replicas"]);
  return {
    kind: entry.kind,
    name: dig(props, ["metadata", "name"]) ?? fallbackName,
    namespace: dig(props, ["metadata", "namespace"]),
    labels: dig(props, ["metadata", "labels"]) ?? {},
    podLabels: dig(template, ["metadata", "labels"]) ?? {},
    podSpec: dig(template, ["spec"]) ?? {},
    replicas:
      entry.kind === "Deployment" || entry.kind === "StatefulSet" || entry.kind === "ReplicaSet"
        ? typeof replicas === "number"
          ? replicas
          : 1
        : undefined,
  };
}

/** The Pulumi type a manifest would have (for tests and for rendered YAML). */
export function pulumiTypeOf(manifest: Obj): string {
  const apiVersion: string = manifest.apiVersion ?? "";
  const group = apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`;
  return `kubernetes:${group}:${manifest.kind}`;
}

export function containersOf(spec: PodSpec, withEphemeral = false): Container[] {
  return [
    ...(spec.containers ?? []),
    ...(spec.initContainers ?? []),
    ...(withEphemeral ? (spec.ephemeralContainers ?? []) : []),
  ];
}
