/**
 * The order upstream manifests are applied in, as `kubernetes:yaml/v2`'s
 * ConfigGroup applies them (sigs.k8s.io/cli-utils' dependency graph): a custom
 * resource waits for the CustomResourceDefinition of its kind, a namespaced
 * object for its Namespace, when either is in the same set. We declare the
 * objects ourselves instead of through a ConfigGroup because the group's
 * Construct call and the SDK's read-back of each child cost seconds per site
 * on every preview (BENCHMARKS.md, issue 11 and 15); the ordering is all the
 * group added.
 */

import { pulumiTypeOf, type Obj } from "../../policies/crossguard/lib/workload";

/** A Kubernetes object's Pulumi type token (policies' pulumiTypeOf), refused without apiVersion or kind. */
export function typeToken(obj: Obj): string {
  if (!obj.apiVersion || !obj.kind) {
    throw new Error(`manifest object ${obj.metadata?.name ?? "(unnamed)"} has no apiVersion or kind`);
  }
  return pulumiTypeOf(obj);
}

/**
 * The resource name ConfigGroup gave an object (`<group>:<namespace>/<name>`,
 * or `<group>:<name>` when cluster-scoped), kept so that state written through
 * a ConfigGroup moves over by an alias of the parent alone.
 */
export function objectResourceName(prefix: string, obj: Obj): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`${prefix}: a ${obj.kind} object has no metadata.name`);
  const ns = obj.metadata?.namespace;
  return `${prefix}:${ns ? `${ns}/${name}` : name}`;
}

/**
 * For each object, the indexes of the objects of the same set it must wait
 * for. A `config.kubernetes.io/depends-on` annotation is refused rather than
 * ignored: none of our manifests uses one, and silently dropping an ordering
 * would create objects too early.
 */
export function dependencyEdges(objs: Obj[]): number[][] {
  const crds = new Map<string, number>();
  const namespaces = new Map<string, number>();
  objs.forEach((o, i) => {
    if (o.kind === "CustomResourceDefinition" && String(o.apiVersion).startsWith("apiextensions.k8s.io/")) {
      crds.set(`${o.spec?.group}/${o.spec?.names?.kind}`, i);
    }
    if (o.kind === "Namespace" && o.apiVersion === "v1") namespaces.set(String(o.metadata?.name), i);
  });
  return objs.map((o) => {
    if (o.metadata?.annotations?.["config.kubernetes.io/depends-on"] !== undefined) {
      throw new Error(
        `${o.kind} ${o.metadata?.name}: the config.kubernetes.io/depends-on annotation is not supported here`,
      );
    }
    const deps: number[] = [];
    const apiVersion = String(o.apiVersion ?? "");
    const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
    const crd = crds.get(`${group}/${o.kind}`);
    if (crd !== undefined) deps.push(crd);
    const ns = o.metadata?.namespace;
    const nsIndex = ns === undefined ? undefined : namespaces.get(String(ns));
    if (nsIndex !== undefined) deps.push(nsIndex);
    return deps;
  });
}

/**
 * The objects (by index, given their dependencyEdges) in an order where each
 * comes after everything it waits for (stable otherwise). Edges only point at
 * CRDs and Namespaces, which wait on nothing of a set themselves, so there is
 * no cycle to meet.
 */
export function applyOrder(edges: number[][]): number[] {
  const done = new Set<number>();
  const order: number[] = [];
  const visit = (i: number) => {
    if (done.has(i)) return;
    done.add(i);
    edges[i].forEach(visit);
    order.push(i);
  };
  edges.forEach((_, i) => visit(i));
  return order;
}
