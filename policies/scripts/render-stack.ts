/**
 * Renders a stack's site layer without a cluster, one folder per site, so an
 * operator can run the real Gatekeeper policies over it before `pulumi up`:
 *   node -r ./policies/scripts/ts-register.js policies/scripts/render-stack.ts <stack|stack-file> <outdir>
 *   gator test -f <outdir>/<site>
 * Needs the Gatekeeper release manifest in artifacts/gatekeeper/ (`bash scripts/deps.sh` puts it there).
 * Generated secrets hold a placeholder: the output is for checking, not for
 * `kubectl apply`.
 */
import * as path from "path";
import { renderStack, writeSite } from "./renderStack";

async function main(args: string[]): Promise<void> {
  if (args.length !== 2) {
    console.error("usage: render-stack.ts <stack|path/to/Pulumi.<stack>.yaml> <outdir>");
    process.exit(2);
  }
  const [stack, outDir] = args;
  for (const site of await renderStack(stack)) {
    const dir = path.join(outDir, site.site);
    writeSite(dir, site);
    console.log(
      `${dir}: ${site.manifests.length} objects, ${site.policies.templates.length} templates, ` +
        `${site.policies.constraints.length} Constraints, ${site.policies.expansions.length} ExpansionTemplates`,
    );
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
