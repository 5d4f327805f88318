/**
 * gen-region.ts <hosts> <out stack file> [template] [--inventory FILE]: a
 * synthetic region of <hosts> K3s hosts in sites of 1 to 5 hosts (one server
 * each, the rest agents), on documentation addresses, for preview benchmarks.
 * Artifacts and keys are well-formed placeholders; a preview never contacts a
 * host. With --inventory the hosts go to that CSV file (named under
 * edgefleet:inventory), as a large region keeps them, so one stack holds any
 * number of hosts.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseDocument } from "yaml";

const args = process.argv.slice(2);
const inv = args.indexOf("--inventory");
const inventory = inv >= 0 ? args.splice(inv, 2)[1] : undefined;
const [countArg, out, template] = args;
const count = Number(countArg);
if (!Number.isInteger(count) || count < 1 || !out) throw new Error("usage: gen-region.ts <hosts> <out> [template]");
const doc = parseDocument(readFileSync(template ?? "stacks/Pulumi.edge-general.yaml", "utf8"));
const hostKey = String(doc.getIn(["config", "edgefleet:sites", 0, "hosts", 0, "hostKey"]));
const sites: unknown[] = [];
let made = 0;
for (let s = 0; made < count; s++) {
  const size = Math.min(1 + (s % 5), count - made);
  const hosts = [];
  for (let h = 0; h < size; h++, made++) {
    // 198.51.100.0/24 and 203.0.113.0/24 hold 508 hosts; beyond that,
    // 2001:db8::/32 (documentation IPv6) keeps every address reserved.
    const address =
      made < 254
        ? `198.51.100.${made + 1}`
        : made < 508
          ? `203.0.113.${made - 253}`
          : `2001:db8::${(made + 1).toString(16)}`;
    hosts.push({ name: `s${s}-h${h}`, address, role: h === 0 ? "server" : "agent", size: "4c8g", hostKey });
  }
  sites.push({ name: `site-${s}`, profile: "edgeGeneral", hosts });
}
if (inventory) {
  const lines = ["site,name,address,role,size,hostKey"];
  for (const site of sites as Array<{ name: string; hosts: Array<Record<string, string>> }>) {
    for (const h of site.hosts) lines.push([site.name, h.name, h.address, h.role, h.size, h.hostKey].join(","));
    delete (site as { hosts?: unknown }).hosts;
  }
  mkdirSync(dirname(inventory), { recursive: true });
  writeFileSync(inventory, lines.join("\n") + "\n");
  doc.setIn(["config", "edgefleet:inventory"], doc.createNode([inventory]));
}
doc.setIn(["config", "edgefleet:sites"], doc.createNode(sites));
doc.setIn(["config", "edgefleet:region"], `bench-${count}`);
writeFileSync(out, doc.toString({ lineWidth: 0 }));
console.log(`${out}: ${count} hosts in ${sites.length} sites${inventory ? ` (hosts in ${inventory})` : ""}`);
