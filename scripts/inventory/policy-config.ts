/**
 * policy-config.ts <stacks/Pulumi.<stack>.yaml>: prints the CrossGuard pack's
 * --policy-pack-config JSON for a stack, derived from its validated config so
 * that preview judges capacity against the same inventory `up` would build:
 * per site, its nodes with their labels, taints and allocatable
 * (config/edgeNodes.ts), the size class its limits are held to, and the
 * hostPath entries its Constraints allow.
 */
import { readFileSync } from "node:fs";
import { parseStackFile, stackNameOf } from "../../config/stackFile";
import { limitsSizeClass, siteNodes } from "../../config/edgeNodes";
import type { StackSpec } from "../../config/schema";
import { nodeGroups, type NodeGroup } from "../../policies/crossguard/rules/capacity";
import { validateStack } from "../../config/inventory";
import { siteHostPaths } from "../../policies/siteHostPaths";

export function policyConfig(spec: StackSpec): Record<string, unknown> {
  const sites: Record<string, { nodes: NodeGroup[] }> = {};
  const limitsClass: Record<string, { sizeClass: string }> = {};
  let maxServers = 0;
  spec.sites.forEach((s, i) => {
    // The nodes the host layer gives the site, as validate() and the site layer see them.
    const nodes = siteNodes(s, `edgefleet:sites[${i}]`);
    sites[s.name] = { nodes: nodeGroups(nodes) };
    limitsClass[s.name] = { sizeClass: limitsSizeClass(nodes) };
    maxServers = Math.max(maxServers, s.hosts.filter((h) => h.role === "server").length);
  });
  const classes = Object.values(limitsClass).map((x) => x.sizeClass);
  return {
    "edge-capacity": { sites },
    // validate() has refused every site whose server count K3s cannot run (config/k3sDatastore.ts).
    "ha-servers-odd": { servers: maxServers },
    // Per site, as each site's Constraint has it; the smallest for a workload matched to no site.
    "max-limits": { sizeClass: classes.includes("2c4g") ? "2c4g" : "4c8g", sites: limitsClass },
    // The stack's setting, as each site's Constraint has it: nothing is allowed because a stack uses it.
    "allowed-repos": { extraRegistries: [...spec.allowedRegistries] },
    // Per site, as each site's Constraints have them: sites of one stack may differ in profile.
    "host-filesystem": {
      sites: Object.fromEntries(spec.sites.map((s) => [s.name, { extraHostPaths: siteHostPaths(s) }])),
    },
  };
}

if (process.argv[1] && /policy-config\.ts$/.test(process.argv[1])) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: policy-config.ts <stack file>");
    process.exit(2);
  }
  const stack = stackNameOf(file);
  const { rawConfig, secretKeys } = parseStackFile(readFileSync(file, "utf8"));
  // Inventory files are named relative to the project folder, where CI runs this.
  const spec = validateStack(stack, rawConfig, secretKeys, (f) => readFileSync(f, "utf8"));
  console.log(JSON.stringify(policyConfig(spec), null, 2));
}
