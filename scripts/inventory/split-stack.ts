/**
 * split-stack.ts --stack <name|file> --max-hosts N [--dry-run]: writes
 * stacks/Pulumi.<stack>-a.yaml, -b, ... of whole sites, each holding at most
 * N hosts (see splitStack.ts). The original file is left for you to remove
 * once the pieces have taken over its sites (`pulumi state` moves, or a
 * fresh `up` of each piece for a region not deployed yet).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { stackFilePath, stackNameOf } from "../../config/stackFile";
import { parseArgs } from "node:util";
import { formatYaml } from "./format";
import { splitStack } from "./splitStack";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      "max-hosts": { type: "string" },
      "dry-run": { type: "boolean", default: false },
    },
  });
  if (!values.stack || !values["max-hosts"]) {
    console.error("usage: split-stack.ts --stack <name|file> --max-hosts N [--dry-run]");
    return 2;
  }
  const file = stackFilePath(values.stack);
  const stack = stackNameOf(file);
  const pieces = splitStack(stack, readFileSync(file, "utf8"), Number(values["max-hosts"]));
  for (const p of pieces) {
    const out = join(dirname(file), `Pulumi.${p.stack}.yaml`);
    if (existsSync(out)) throw new Error(`${out} exists; not overwriting it`);
    console.log(`${out}: ${p.sites.length} sites, ${p.hosts} hosts`);
    if (!values["dry-run"]) writeFileSync(out, await formatYaml(p.text));
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error((e as Error).message);
    process.exit(1);
  },
);
