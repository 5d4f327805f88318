/**
 * config-size.ts <stack file>...: fails, naming the stack and the fix, when a
 * stack's config is past what the engine can hand to the program (see
 * config/configSize.ts); warns when it is near. The pull-request previews run
 * it first, so an oversized region gets this message instead of the engine's
 * "argument list too long".
 */
import { readFileSync } from "node:fs";
import { checkConfigSize } from "../../config/configSize";
import { parseStackFile, stackNameOf } from "../../config/stackFile";

let failed = false;
for (const file of process.argv.slice(2)) {
  const stack = stackNameOf(file);
  const finding = checkConfigSize(stack, parseStackFile(readFileSync(file, "utf8")).rawConfig);
  if (!finding) continue;
  console.error(`${finding.level}: ${finding.message}`);
  if (finding.level === "error") failed = true;
}
process.exit(failed ? 1 : 0);
