/**
 * config-size.ts <stack file>...: fails, naming the stack and the fix, when a
 * stack's config is past what the engine can hand to the program (see
 * config/configSize.ts); warns when it is near. The pull-request previews run
 * it first, so an oversized region gets this message instead of the engine's
 * "argument list too long". A stack file that is not valid YAML fails here
 * too, naming file, line and column (the engine names the line only).
 */
import { readFileSync } from "node:fs";
import { checkConfigSize } from "../../config/configSize";
import { parseStackFile, stackNameOf } from "../../config/stackFile";

let failed = false;
for (const file of process.argv.slice(2)) {
  const stack = stackNameOf(file);
  let rawConfig: Record<string, unknown>;
  try {
    rawConfig = parseStackFile(readFileSync(file, "utf8"), file).rawConfig;
  } catch (e) {
    // A syntax error is reported here, with file, line and column, before the engine's own message.
    console.error(`error: ${(e as Error).message}`);
    failed = true;
    continue;
  }
  const finding = checkConfigSize(stack, rawConfig);
  if (!finding) continue;
  console.error(`${finding.level}: ${finding.message}`);
  if (finding.level === "error") failed = true;
}
process.exit(failed ? 1 : 0);
