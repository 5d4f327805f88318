// Lets `node --import ./scripts/inventory/ts-resolve.mjs <file>.ts` run the
// project's TypeScript with Node's built-in type stripping: the sources import
// siblings without an extension (as tsc and ts-jest expect), which Node's
// resolver does not try, so a relative specifier that fails is retried as .ts.
import { registerHooks } from "node:module";

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (err) {
      const relative =
        specifier.startsWith("./") || specifier.startsWith("../");
      if (relative && !specifier.endsWith(".ts"))
        return nextResolve(`${specifier}.ts`, context);
      throw err;
    }
  },
});
