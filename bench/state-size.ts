/**
 * bench/state-size.ts <lab export> <k3s preview --json>: the figures
 * bench/state-size.sh prints (method there).
 */
import * as fs from "fs";

const HOST_STEP = "pulumi-nodejs:dynamic/edgefleet:HostCommand";
const size = (v: unknown) => Buffer.byteLength(JSON.stringify(v ?? null));
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

const exported = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const resources: Record<string, unknown>[] = exported.deployment.resources;
const total = size(exported);
const steps = resources.filter((r) => r.type === HOST_STEP);
const stepBytes = steps.map(size);
// What the engine adds per resource besides inputs and outputs.
const overhead = steps.map((r) => size(r) - size(r.inputs) - size(r.outputs));
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
console.log(
  `lab export: ${kb(total)}, ${resources.length} resources; host steps: ${steps.length}, ${kb(stepBytes.reduce((a, b) => a + b, 0))} in all`,
);
for (const r of steps) {
  const name = String(r.urn).split("::").pop();
  const parts = Object.entries((r.inputs ?? {}) as Record<string, unknown>)
    .map(([k, v]) => `${k} ${size(v)}`)
    .join(", ");
  console.log(`  ${name}: ${kb(size(r))} (inputs: ${parts})`);
}
const perResource = avg(overhead);
console.log(`  engine fields per host step: ${Math.round(perResource)} B`);

const preview = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const perHost = new Map<string, { steps: number; bytes: number }>();
for (const s of preview.steps as { urn: string; newState?: { type: string; inputs: unknown } }[]) {
  if (s.newState?.type !== HOST_STEP) continue;
  const host = /::site-\d+-(s\d+-h\d+)-/.exec(s.urn)?.[1];
  if (!host) continue; // a site's own steps (kubeconfig, CA hash, bootstrap save): per site, not per host
  const e = perHost.get(host) ?? { steps: 0, bytes: 0 };
  e.steps += 1;
  e.bytes += 2 * size(s.newState.inputs) + perResource;
  perHost.set(host, e);
}
const hosts = [...perHost.values()];
console.log(
  `K3s hosts (preview estimate, ${hosts.length} hosts): ${avg(hosts.map((h) => h.steps)).toFixed(1)} host steps per host, ` +
    `${kb(avg(hosts.map((h) => h.bytes)))} per host (min ${kb(Math.min(...hosts.map((h) => h.bytes)))}, max ${kb(Math.max(...hosts.map((h) => h.bytes)))})`,
);
