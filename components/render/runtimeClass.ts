import { LABEL_WASM } from "../../config/edgeNodes";
import type { Resources } from "../../config/sizeClasses";
import { cpuQuantity, memoryQuantity } from "../../config/quantity";
import type { RuntimeClassManifest } from "./common";

/**
 * Per-pod overhead of the WasmEdge containerd shim (one shim process per pod
 * plus the runtime's own heap). Our estimate, not measured on the cases'
 * hardware: the scheduler adds it to every tracker pod's requests, and so
 * does config/capacity.ts (read from this RuntimeClass's podFixed).
 */
export const WASMEDGE_OVERHEAD: Resources = { cpuMillis: 10, memoryMiB: 24 };

export interface RuntimeClassRenderArgs {
  name?: string;
  handler?: string;
  overhead?: Resources;
}

export function renderRuntimeClass(args: RuntimeClassRenderArgs = {}): RuntimeClassManifest {
  const overhead = args.overhead ?? WASMEDGE_OVERHEAD;
  return {
    apiVersion: "node.k8s.io/v1",
    kind: "RuntimeClass",
    metadata: { name: args.name ?? "wasmedge", labels: { "app.kubernetes.io/part-of": "edgefleet" } },
    // K3s registers the runwasi shim under this handler name when it finds it on a node.
    handler: args.handler ?? "wasmedge",
    // Pods of this class only land where infra/ has labelled the WasmEdge shim as installed.
    scheduling: { nodeSelector: { [LABEL_WASM]: "true" } },
    overhead: { podFixed: { cpu: cpuQuantity(overhead.cpuMillis), memory: memoryQuantity(overhead.memoryMiB) } },
  };
}
