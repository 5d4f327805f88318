"use strict";
/**
 * The floor bench/floor.sh measures: EDGEFLEET_FLOOR_RESOURCES trivial
 * ConfigMaps, each declared like the program declares a resource (one
 * provider, parent a component), with the program's own settings for the
 * Node SDK (no stack-trace capture, V8's compile cache). The provider renders
 * to a folder instead of a cluster, so a preview contacts nothing; what is
 * left is what every resource costs the engine, the language host and the
 * plugin, whatever the resource is.
 */
const path = require("node:path");
const Module = require("node:module");
Module.enableCompileCache?.(path.join(__dirname, "..", "..", "node_modules", ".cache", "edgefleet-v8"));
Error.stackTraceLimit = 0;
const pulumi = require("@pulumi/pulumi");
const k8s = require("@pulumi/kubernetes");

const n = Number(process.env.EDGEFLEET_FLOOR_RESOURCES);
if (!Number.isInteger(n) || n < 1) throw new Error("EDGEFLEET_FLOOR_RESOURCES must be a positive integer");
const group = new pulumi.ComponentResource("edgefleet:bench:Floor", "floor");
const provider = new k8s.Provider(
  "floor",
  { renderYamlToDirectory: process.env.EDGEFLEET_FLOOR_DIR ?? "/nonexistent" },
  { parent: group },
);
// The component and the provider count as two of the n resources.
for (let i = 0; i < n - 2; i++) {
  new k8s.core.v1.ConfigMap(
    `floor-${i}`,
    { metadata: { name: `floor-${i}`, namespace: "default" }, data: { index: String(i) } },
    { parent: group, provider },
  );
}
