// Lets plain `node -r ./policies/scripts/ts-register.js file.ts` run the
// policy scripts with the project's own TypeScript (no ts-node dependency):
// each .ts file is transpiled to CommonJS on require. Type checking is tsc's
// job (npm run typecheck), not this hook's.
const fs = require("fs");
const ts = require("typescript");

require.extensions[".ts"] = function (module, filename) {
  const source = fs.readFileSync(filename, "utf8");
  const out = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(out.outputText, filename);
};
