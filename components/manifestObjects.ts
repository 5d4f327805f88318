import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { applyOrder, dependencyEdges, objectResourceName, typeToken } from "./render/objectGraph";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

/** One object of an upstream manifest, as it is: the provider takes any kind by its type token. */
class ManifestObject extends pulumi.CustomResource {
  constructor(name: string, obj: Obj, opts: pulumi.CustomResourceOptions) {
    const inputs: Obj = { ...obj };
    // As the SDK's Secret does: its payload is never plaintext in state.
    const secret = inputs.kind === "Secret" && inputs.apiVersion === "v1";
    if (secret) {
      for (const key of ["data", "stringData"]) if (inputs[key] !== undefined) inputs[key] = pulumi.secret(inputs[key]);
    }
    super(typeToken(obj), name, inputs, secret ? { ...opts, additionalSecretOutputs: ["data", "stringData"] } : opts);
  }
}

export interface ManifestObjectsArgs {
  /** The component the objects belong to. */
  parent: pulumi.Resource;
  provider: k8s.Provider;
  /** What every object waits for besides its own CRD and Namespace. @default none */
  dependsOn?: pulumi.Resource[];
}

/**
 * The objects as resources named `<prefix>:<namespace>/<name>`, each waiting
 * for its CRD and Namespace in the set (render/objectGraph.ts). Releases
 * before this one declared them through a `kubernetes:yaml/v2:ConfigGroup`
 * named `prefix`; the alias moves that state over, so the change touches no
 * object of a running site (the group itself leaves state as a component).
 */
export function manifestObjects(prefix: string, objs: Obj[], args: ManifestObjectsArgs): pulumi.CustomResource[] {
  const edges = dependencyEdges(objs);
  const made = new Array<pulumi.CustomResource>(objs.length);
  const formerGroup = pulumi.createUrn(prefix, "kubernetes:yaml/v2:ConfigGroup", args.parent);
  for (const i of applyOrder(edges)) {
    made[i] = new ManifestObject(objectResourceName(prefix, objs[i]), objs[i], {
      parent: args.parent,
      provider: args.provider,
      dependsOn: [...(args.dependsOn ?? []), ...edges[i].map((j) => made[j])],
      aliases: [{ parent: formerGroup }],
    });
  }
  return made;
}
