import { parseAllDocuments } from "yaml";
import type { PodGroup } from "../../config/capacity";
import { DOCKER_HUB, formatImageRef, tryParseImageRef } from "../../config/image";
import { k8sResources, type ResourceSpec } from "./common";
import { GATEKEEPER_RELEASE } from "../gatekeeperRelease";

/**
 * Gatekeeper is installed from upstream's own deploy/gatekeeper.yaml (the one
 * of the pinned release, components/gatekeeperRelease.ts), transformed here, rather than re-rendered
 * by hand: the file carries 17 CRDs, RBAC and webhook wiring that track each
 * release; rewriting them would be a fork to maintain. We change only what a
 * small edge node needs and check the pin.
 */
export const GATEKEEPER_VERSION = `v${GATEKEEPER_RELEASE.version}`;
export const GATEKEEPER_NAMESPACE = "gatekeeper-system";

/** The image upstream's Deployments run; the allowed registries admit it by default (components/images.ts). */
export const GATEKEEPER_IMAGE_REPOSITORY = "openpolicyagent/gatekeeper";

export type FailurePolicy = "Ignore" | "Fail";

export interface GatekeeperTransformArgs {
  controllerReplicas: number;
  /** @default 1 */
  auditReplicas?: number;
  controllerResources: ResourceSpec;
  auditResources: ResourceSpec;
  /** failurePolicy of the validation.gatekeeper.sh webhook (upstream: Ignore). */
  validatingFailurePolicy: FailurePolicy;
  /** failurePolicy of the mutation.gatekeeper.sh webhook. @default "Ignore" (upstream's) */
  mutatingFailurePolicy?: FailurePolicy;
  /** Seconds between audits; longer costs less CPU on a 2-core node. @default upstream's (60) */
  auditIntervalSeconds?: number;
  /** Registry mirror for offline sites: the images' repositories (openpolicyagent/gatekeeper) are pulled from it. @default none (upstream's images) */
  imageRegistry?: string;
  /** The release the manifest must be. @default GATEKEEPER_VERSION */
  version?: string;
}

// Upstream objects are arbitrary YAML; we touch known paths only.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

// A region's sites share one release file: parsing its ~500 KB of YAML once per
// site was a tenth of a 34-site preview (BENCHMARKS.md, issue 15).
const parsed = new Map<string, Obj[]>();

/** The manifest's objects, parsed once per process; each caller gets its own deep copy to change. */
export function parseManifest(yamlText: string): Obj[] {
  let objs = parsed.get(yamlText);
  if (!objs) {
    objs = parseAllDocuments(yamlText)
      .map((d) => {
        if (d.errors.length) throw new Error(`gatekeeper manifest: ${d.errors[0].message}`);
        return d.toJS() as Obj | null;
      })
      .filter((o): o is Obj => !!o && typeof o === "object" && !!o.kind);
    parsed.set(yamlText, objs);
  }
  // A JSON copy, not structuredClone: the objects are plain YAML data, and
  // structuredClone's arrays come from another realm under jest, where the
  // SDK's serializer no longer sees them as arrays.
  return JSON.parse(JSON.stringify(objs)) as Obj[];
}

function find(objs: Obj[], kind: string, name: string): Obj {
  const o = objs.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!o) throw new Error(`gatekeeper manifest has no ${kind}/${name}; not the upstream deploy/gatekeeper.yaml?`);
  return o;
}

export function transformGatekeeper(yamlText: string, a: GatekeeperTransformArgs): Obj[] {
  const version = a.version ?? GATEKEEPER_VERSION;
  const objs = parseManifest(yamlText);
  if (a.controllerReplicas < 1) throw new Error("gatekeeper controllerReplicas must be >= 1");
  const controller = find(objs, "Deployment", "gatekeeper-controller-manager");
  const audit = find(objs, "Deployment", "gatekeeper-audit");
  for (const d of [controller, audit]) {
    for (const c of d.spec.template.spec.containers as Obj[]) {
      const image = tryParseImageRef(c.image);
      if (image?.tag !== version || image.registry !== DOCKER_HUB || image.repository !== GATEKEEPER_IMAGE_REPOSITORY)
        throw new Error(
          `gatekeeper manifest image ${c.image} is not the pinned ${GATEKEEPER_IMAGE_REPOSITORY}:${version}`,
        );
      if (a.imageRegistry) c.image = formatImageRef({ ...image, registry: a.imageRegistry.replace(/\/+$/, "") });
      // Offline sites must restart from the node's image cache.
      c.imagePullPolicy = "IfNotPresent";
      c.resources = k8sResources(d === controller ? a.controllerResources : a.auditResources);
      c.env = [
        ...(c.env ?? []).filter((e: Obj) => e.name !== "GOMEMLIMIT"),
        {
          name: "GOMEMLIMIT",
          value: `${Math.floor((d === controller ? a.controllerResources : a.auditResources).limits.memoryMiB * 0.85)}MiB`,
        },
      ];
      if (d === audit && a.auditIntervalSeconds) {
        c.args = [
          ...(c.args as string[]).filter((x) => !x.startsWith("--audit-interval")),
          `--audit-interval=${a.auditIntervalSeconds}`,
        ];
      }
    }
  }
  controller.spec.replicas = a.controllerReplicas;
  audit.spec.replicas = a.auditReplicas ?? 1;

  // Upstream's minAvailable: 1 would block every drain of a one-replica site.
  const pdb = find(objs, "PodDisruptionBudget", "gatekeeper-controller-manager");
  if (a.controllerReplicas < 2) {
    delete pdb.spec.minAvailable;
    pdb.spec.maxUnavailable = 1;
  }

  const vwc = find(objs, "ValidatingWebhookConfiguration", "gatekeeper-validating-webhook-configuration");
  const validation = (vwc.webhooks as Obj[]).find((w) => w.name === "validation.gatekeeper.sh");
  if (!validation) throw new Error("gatekeeper manifest lacks the validation.gatekeeper.sh webhook");
  validation.failurePolicy = a.validatingFailurePolicy;
  const mwc = find(objs, "MutatingWebhookConfiguration", "gatekeeper-mutating-webhook-configuration");
  for (const w of mwc.webhooks as Obj[]) w.failurePolicy = a.mutatingFailurePolicy ?? "Ignore";
  return objs;
}

/**
 * Templates as applied: each waits until Gatekeeper reports its Constraint
 * kind created, so Constraints never race their CRD. `awaitCreated: false`
 * for clusters where Gatekeeper's controller cannot run (it would wait forever).
 */
export function prepareTemplates(templates: Obj[], awaitCreated = true): Obj[] {
  return templates.map((t) => {
    if (t.kind !== "ConstraintTemplate") throw new Error(`expected ConstraintTemplate, got ${t.kind}`);
    const copy = structuredClone(t);
    if (!awaitCreated) return copy;
    copy.metadata = copy.metadata ?? {};
    copy.metadata.annotations = {
      ...(copy.metadata.annotations ?? {}),
      "pulumi.com/waitFor": "jsonpath={.status.created}=true",
    };
    return copy;
  });
}

export function checkConstraints(constraints: Obj[], templates: Obj[]): void {
  const kinds = new Set(templates.map((t) => t.spec?.crd?.spec?.names?.kind));
  for (const c of constraints) {
    if (c.apiVersion !== "constraints.gatekeeper.sh/v1beta1") {
      throw new Error(
        `constraint ${c.metadata?.name}: apiVersion ${c.apiVersion} is not constraints.gatekeeper.sh/v1beta1`,
      );
    }
    if (!kinds.has(c.kind))
      throw new Error(`constraint ${c.metadata?.name}: no ConstraintTemplate defines kind ${c.kind}`);
  }
}

/** Resource totals of the transformed Deployments, for the footprint. */
export function gatekeeperWorkloads(objs: Obj[]): { name: string; replicas: number; resources: Obj }[] {
  return objs
    .filter((o) => o.kind === "Deployment")
    .flatMap((d) =>
      (d.spec.template.spec.containers as Obj[]).map((c) => ({
        name: `${d.metadata.name}/${c.name}`,
        replicas: d.spec.replicas ?? 1,
        resources: c.resources ?? {},
      })),
    );
}

/** Upstream's Deployments and the one container of each whose resources transformGatekeeper sets. */
const GATEKEEPER_DEPLOYMENTS = ["gatekeeper-controller-manager", "gatekeeper-audit"] as const;

/**
 * Gatekeeper's pods as the capacity model places them, from the transform's
 * arguments alone: validate() has no manifest to read. A unit test holds them
 * to podGroupOf() of the transformed upstream Deployments.
 */
export function gatekeeperPodGroups(a: GatekeeperTransformArgs): PodGroup[] {
  return GATEKEEPER_DEPLOYMENTS.map((name) => {
    const controller = name === "gatekeeper-controller-manager";
    const r = controller ? a.controllerResources : a.auditResources;
    return {
      name: `Deployment ${GATEKEEPER_NAMESPACE}/${name}`,
      replicas: controller ? a.controllerReplicas : (a.auditReplicas ?? 1),
      requests: { ...r.requests },
      limits: { ...r.limits },
      // Upstream's own nodeSelector; its anti-affinity is only preferred.
      nodeSelector: { "kubernetes.io/os": "linux" },
      tolerations: [],
      spreadPerNode: false,
    };
  });
}

/**
 * Why the site layer could not install this manifest as modelled, or
 * undefined: it must transform (the objects and images transformGatekeeper
 * edits are there) and its Deployments must create the pods
 * gatekeeperPodGroups models, since capacity was judged on those. Run before
 * any resource is declared (index.ts), so a release pinned in
 * edgefleet:gatekeeper that differs is refused like a config error.
 */
export function gatekeeperManifestProblem(yamlText: string, a: GatekeeperTransformArgs): string | undefined {
  let objs: Obj[];
  try {
    objs = transformGatekeeper(yamlText, a);
  } catch (e) {
    return (e as Error).message;
  }
  const names = objs.filter((o) => o.kind === "Deployment").map((o) => o.metadata?.name as string);
  const modelled = new Set<string>(GATEKEEPER_DEPLOYMENTS);
  const extra = names.filter((n) => !modelled.has(n));
  if (extra.length)
    return `its Deployments ${extra.join(", ")} are not the two Edgefleet sizes (${GATEKEEPER_DEPLOYMENTS.join(", ")})`;
  for (const d of objs.filter((o) => o.kind === "Deployment")) {
    if ((d.spec.template.spec.containers as Obj[]).length !== 1 || d.spec.template.spec.initContainers?.length)
      return `Deployment ${d.metadata.name} runs more than the one container Edgefleet sizes`;
  }
  return undefined;
}
