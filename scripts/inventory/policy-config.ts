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
import { validate } from "../../config/validate";
import { siteHostPaths } from "../../policies/siteHostPaths";

export function policyConfig(spec: StackSpec): Record<string, unknown> {
  const sites: Record<string, { nodes: NodeGroup[] }> = {};
  const limitsClass: Record<string, { sizeClass: string }> = {};
  let evenServers: number | undefined;
  let maxServers = 0;
  spec.sites.forEach((s, i) => {
    // The nodes the host layer gives the site, as validate() and the site layer see them.
    const nodes = siteNodes(s, `edgefleet:sites[${i}]`);
    sites[s.name] = { nodes: nodeGroups(nodes) };
    limitsClass[s.name] = { sizeClass: limitsSizeClass(nodes) };
    const servers = s.hosts.filter((h) => h.role === "server").length;
    maxServers = Math.max(maxServers, servers);
    if (servers > 1 && servers % 2 === 0) evenServers = servers;
  });
  const classes = Object.values(limitsClass).map((x) => x.sizeClass);
  return {
    "edge-capacity": { sites },
    "ha-servers-odd": { servers: evenServers ?? maxServers },
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
  console.log(JSON.stringify(policyConfig(validate(stack, rawConfig, secretKeys)), null, 2));
}
