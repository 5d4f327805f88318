import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Resources } from "../config/sizeClasses";
import { childOptions, K8sComponentArgs } from "./k8sOptions";
import { renderRuntimeClass } from "./render/runtimeClass";

export interface WasmEdgeRuntimeClassArgs extends K8sComponentArgs {
  /** What the scheduler adds to each tracker pod's requests for the shim. @default WASMEDGE_OVERHEAD (10m / 24Mi) */
  overhead?: Resources;
}

/** The `wasmedge` RuntimeClass the trackers run under (they name it; nothing reads it back). */
export class WasmEdgeRuntimeClass extends pulumi.ComponentResource {
  constructor(name: string, args: WasmEdgeRuntimeClassArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:components:WasmEdgeRuntimeClass", name, {}, opts);
    new k8s.node.v1.RuntimeClass(
      name,
      renderRuntimeClass({ overhead: args.overhead }),
      childOptions(this, args.provider),
    );
    this.registerOutputs({});
  }
}
