/**
 * policy-config.ts <stacks/Pulumi.<stack>.yaml>: prints the CrossGuard pack's
 * --policy-pack-config JSON for a stack, derived from its validated config so
 * that preview judges capacity against the same inventory `up` would build:
 * per site, its edge nodes (agents and KWOK nodes, or servers running
 * workloads when a site has no agents) and their size class, and the hostPath
 * entries its Constraints allow.
 */
import { readFileSync } from "node:fs";
import { parseImageRef } from "../../config/image";
import { parseStackFile, stackNameOf } from "../../config/stackFile";
import type { StackSpec } from "../../config/schema";
import { validateStack } from "../../config/inventory";
import { siteHostPaths } from "../../policies/siteHostPaths";

export function policyConfig(spec: StackSpec): Record<string, unknown> {
  const sites: Record<string, { edgeNodes: number; sizeClass: string }> = {};
  let maxServers = 0;
  for (const s of spec.sites) {
    const agents = s.hosts.filter((h) => h.role === "agent");
    const servers = s.hosts.filter((h) => h.role === "server");
    const edge = agents.length > 0 || s.kwok ? agents : s.disableAgentOnServers ? [] : servers;
    const sizes = [...edge.map((h) => h.size), ...(s.kwok && s.kwok.nodes > 0 ? [s.kwok.size] : [])].map(
      (size) => size.sizeClass,
    );
    // The smaller class when a site mixes them: capacity is judged conservatively.
    const sizeClass = sizes.includes("2c4g") || sizes.length === 0 ? "2c4g" : "4c8g";
    sites[s.name] = {
      edgeNodes: edge.length + (s.kwok?.nodes ?? 0),
      sizeClass,
    };
    maxServers = Math.max(maxServers, servers.length);
  }
  // The stack's own registries: tracker images named in overrides and mirrors.
  const registries = new Set<string>();
  for (const s of spec.sites) {
    const image = s.overrides.tracker?.image;
    if (image) registries.add(parseImageRef(image).registry);
  }
  for (const r of Object.keys(spec.registry?.mirrors ?? {})) if (r !== "*") registries.add(r);
  const classes = Object.values(sites).map((x) => x.sizeClass);
  return {
    "edge-capacity": { sites },
    // validate() has refused every site whose server count K3s cannot run (config/k3sDatastore.ts).
    "ha-servers-odd": { servers: maxServers },
    // Limits are judged against the smallest node class the stack has, as at admission.
    "max-limits": { sizeClass: classes.includes("2c4g") ? "2c4g" : "4c8g" },
    "allowed-repos": { extraRegistries: [...registries].sort() },
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
