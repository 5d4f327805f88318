/**
 * Imports a host inventory (CSV, YAML or JSON) into a stack's edgefleet:sites.
 *
 *   scripts/inventory/run-ts.sh scripts/inventory/import.ts \
 *     --stack retail-city --from hosts.csv [--site S] [--profile P] [--size S] [--servers N] [--max-hosts N] [--dry-run]
 *
 * --stack is a stack name (stacks/Pulumi.<name>.yaml) or a stack file path.
 * Each site in the input gets exactly the input's hosts; other sites are left
 * alone; new sites need a profile. Nothing is written unless the whole stack
 * validates; every problem is printed with its input line. The file keeps its
 * comments and is formatted with prettier. With --max-hosts N the result is
 * written as stacks <stack>-a, -b, ... of whole sites of at most N hosts
 * (splitStack.ts), for regions past one stack's config ceiling. With
 * --inventory FILE (a .csv or .yaml path in the repository) the hosts go to
 * that file instead and the stack names it under edgefleet:inventory, which
 * keeps them out of the engine's config: no ceiling, no split.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { stackFilePath, stackNameOf } from "../../config/stackFile";
import { parseArgs } from "node:util";
import { formatYaml } from "./format";
import { type ImportDefaults, mergeInventory, mergeInventoryFile, parseInventory } from "./inventory";
import { splitStack } from "./splitStack";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      from: { type: "string" },
      site: { type: "string" },
      profile: { type: "string" },
      size: { type: "string" },
      servers: { type: "string" },
      "max-hosts": { type: "string" },
      inventory: { type: "string" },
      "dry-run": { type: "boolean", default: false },
    },
  });
  if (!values.stack || !values.from) {
    console.error(
      "usage: import.ts --stack <name|file> --from <hosts.csv|hosts.yaml|inventory.json> [--site S] [--profile P] [--size S] [--servers N] [--max-hosts N | --inventory FILE] [--dry-run]",
    );
    return 2;
  }
  const stackFile = stackFilePath(values.stack);
  const stackName = stackNameOf(stackFile);
  const defaults: ImportDefaults = {};
  if (values.site) defaults.site = values.site;
  if (values.profile) defaults.profile = values.profile;
  if (values.size) defaults.size = values.size;
  if (values.servers !== undefined) defaults.servers = Number(values.servers);

  const { rows, problems: rowProblems } = parseInventory(
    readFileSync(values.from, "utf8"),
    basename(values.from),
    defaults,
  );
  if (values.inventory !== undefined) {
    // The hosts go to a file in the repository the stack names; the engine's config stays small.
    const inv = values.inventory;
    const r = mergeInventoryFile(
      stackName,
      readFileSync(stackFile, "utf8"),
      rows,
      inv,
      (f) => readFileSync(f, "utf8"),
      defaults,
    );
    const all = [...rowProblems.map((p) => `${p.source}: ${p.problem}`), ...r.problems];
    if (all.length > 0) {
      console.error(`import: ${all.length} problem(s); ${stackFile} and ${inv} were not changed:`);
      for (const p of all) console.error(`  - ${p}`);
      return 1;
    }
    const hosts = r.spec?.sites.reduce((n, s) => n + s.hosts.length, 0) ?? 0;
    console.log(`import: ${rows.length} host(s) from ${values.from} into ${inv}; the stack now has ${hosts} host(s)`);
    if (!values["dry-run"]) {
      mkdirSync(dirname(inv), { recursive: true });
      writeFileSync(inv, /\.ya?ml$/i.test(inv) ? await formatYaml(r.inventoryText) : r.inventoryText);
      writeFileSync(stackFile, await formatYaml(r.text));
    }
    return 0;
  }
  const result = mergeInventory(stackName, readFileSync(stackFile, "utf8"), rows, defaults);
  const problems = [...rowProblems.map((p) => `${p.source}: ${p.problem}`), ...result.problems];
  if (problems.length > 0) {
    console.error(`import: ${problems.length} problem(s); ${stackFile} was not changed:`);
    for (const p of problems) console.error(`  - ${p}`);
    return 1;
  }
  const hosts = result.spec?.sites.reduce((n, s) => n + s.hosts.length, 0) ?? 0;
  console.log(
    `import: ${rows.length} host(s) from ${values.from}; sites replaced: ${result.replaced.join(", ") || "none"}; added: ${result.added.join(", ") || "none"}; the stack now has ${hosts} host(s)`,
  );
  if (values["max-hosts"] !== undefined) {
    // A region larger than one stack can carry: write it as stacks of whole sites instead.
    for (const piece of splitStack(stackName, result.text, Number(values["max-hosts"]))) {
      const out = join(dirname(stackFile), `Pulumi.${piece.stack}.yaml`);
      console.log(`import: ${out}: ${piece.sites.length} site(s), ${piece.hosts} host(s)`);
      if (!values["dry-run"]) writeFileSync(out, await formatYaml(piece.text));
    }
    return 0;
  }
  if (result.tooLarge) {
    console.error(
      `import: ${result.tooLarge} (${stackFile} was not changed; --max-hosts N writes it as several stacks)`,
    );
    return 1;
  }
  if (result.warning) console.error(`import: warning: ${result.warning}`);
  if (!values["dry-run"]) writeFileSync(stackFile, await formatYaml(result.text));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`import: ${(e as Error).message}`);
    process.exit(1);
  },
);
