/**
 * Writes the generated parts of the Gatekeeper library. Run after changing a
 * src.rego, catalog.ts or thresholds.ts:
 *   node -r ./policies/scripts/ts-register.js policies/gatekeeper/generate.ts
 * (test/policy/gatekeeper.test.ts fails while the checkout is stale).
 */
import * as fs from "fs";
import * as path from "path";
import { GATEKEEPER_DIR, generatedFiles } from "./files";

for (const [rel, content] of generatedFiles()) {
  const file = path.join(GATEKEEPER_DIR, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const old = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  if (old !== content) {
    fs.writeFileSync(file, content);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}
