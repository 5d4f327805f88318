"use strict";
/**
 * The program's entry as the Pulumi language host runs it (Pulumi.yaml
 * `main`): index.ts, through lib/transpileCache.js, which transpiles each
 * TypeScript file once per content and keeps it in node_modules/.cache.
 *
 * Why not the language host's ts-node (`typescript: true`): it loads the
 * TypeScript compiler and transpiles every file again on every run, and
 * `pulumi up` runs the program twice (preview, then update); on a no-op `up`
 * of the lab that, with V8 compiling every module afresh, was most of the
 * program's start (BENCHMARKS.md, "Program start and the engine's own
 * logs"). A current language host honours `typescript: false`; the pinned
 * v3.68 one (tools/README.md) still registers ts-node, which then sees no
 * file: this one is JavaScript and the .ts files load through the hook.
 * Type-checking stays the typecheck step's (`npm run typecheck`, which make
 * test and the PR workflow run).
 */
const path = require("node:path");
const Module = require("node:module");
const { register } = require("./lib/transpileCache.js");

const cache = path.join(__dirname, "node_modules", ".cache");
// V8's compiled code for every module loaded from here on (@pulumi/kubernetes
// and the program): loading them was most of the program's own start.
Module.enableCompileCache?.(path.join(cache, "edgefleet-v8"));
register({ root: __dirname, cacheDir: path.join(cache, "edgefleet-ts") });
if (process.env.EDGEFLEET_STACK_TRACES) process.setSourceMapsEnabled(true);
else {
  // The Node SDK takes a whole stack trace at every resource it registers
  // (Resource.callsites raises Error.stackTraceLimit to Infinity and parses
  // `new Error().stack`) and sends its frames to the engine, which keeps them
  // in state as each resource's sourcePosition and stackTrace: about 550
  // bytes a resource, a fifth of a host step's state, and a full stack walk
  // per resource at every run (issue 15). Nothing of Edgefleet reads them;
  // errors name stack, site, host and key instead. EDGEFLEET_STACK_TRACES=1
  // keeps them, with source-mapped traces.
  const { Resource } = require("@pulumi/pulumi");
  if (typeof Resource.callsites !== "function") {
    throw new Error("start.js: @pulumi/pulumi has no Resource.callsites to turn off; see start.js");
  }
  Resource.callsites = () => [];
}

module.exports = require("./index.ts");
