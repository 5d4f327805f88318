"use strict";
/**
 * A require hook for the project's TypeScript: each file is transpiled once
 * per content by the project's own compiler and tsconfig.json, and kept in a
 * cache folder; a run with nothing changed reads the cached JavaScript and
 * never loads the compiler (start.js says why that matters). The output is
 * what ts-node's transpile-only mode gives: one file at a time, no
 * type-checking (that is `npm run typecheck`'s).
 */
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const Module = require("node:module");

/**
 * @param {{ root: string, cacheDir: string }} args root: the folder with
 *   tsconfig.json and node_modules/typescript; cacheDir: where transpiled
 *   files are kept (created on first use).
 * @returns {{ compilerLoaded: () => boolean }}
 */
function register({ root, cacheDir }) {
  const tsconfigPath = path.join(root, "tsconfig.json");

  // A new compiler or tsconfig.json changes every file's key, so nothing
  // transpiled by another configuration is ever reused.
  let salt;
  function cacheSalt() {
    if (salt === undefined) {
      const tsPackage = require.resolve("typescript/package.json", { paths: [root] });
      const version = JSON.parse(fs.readFileSync(tsPackage, "utf8")).version;
      salt = `${version}\0${fs.readFileSync(tsconfigPath, "utf8")}`;
    }
    return salt;
  }

  let compiler; // loaded on the first file the cache does not hold
  function loadCompiler() {
    if (!compiler) {
      const ts = require(require.resolve("typescript", { paths: [root] }));
      const parsed = ts.getParsedCommandLineOfConfigFile(
        tsconfigPath,
        {},
        {
          ...ts.sys,
          onUnRecoverableConfigFileDiagnostic: (d) => {
            throw new Error(`${tsconfigPath}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
          },
        },
      );
      compiler = {
        ts,
        // Inline maps, so a trace (EDGEFLEET_STACK_TRACES=1) points at the .ts line.
        options: { ...parsed.options, sourceMap: false, inlineSourceMap: true, declaration: false, noEmit: false },
      };
    }
    return compiler;
  }

  function transpile(source, filename) {
    const key = crypto.createHash("sha256");
    key.update(cacheSalt()).update("\0").update(path.relative(root, filename)).update("\0").update(source);
    const cached = path.join(cacheDir, `${key.digest("hex")}.js`);
    try {
      return fs.readFileSync(cached, "utf8");
    } catch {
      // not transpiled yet
    }
    const { ts, options } = loadCompiler();
    const output = ts.transpileModule(source, { compilerOptions: options, fileName: filename }).outputText;
    try {
      // Written beside and renamed: a preview and an update never read half a file.
      fs.mkdirSync(cacheDir, { recursive: true });
      const partial = `${cached}.${process.pid}.partial`;
      fs.writeFileSync(partial, output);
      fs.renameSync(partial, cached);
    } catch {
      // A read-only checkout still runs; it transpiles again next time.
    }
    return output;
  }

  Module._extensions[".ts"] = function loadTypeScript(module, filename) {
    module._compile(transpile(fs.readFileSync(filename, "utf8"), filename), filename);
  };
  return { compilerLoaded: () => compiler !== undefined };
}

module.exports = { register };
