/**
 * bench/state-size.ts <lab export> <k3s preview --json>: the figures
 * bench/state-size.sh prints (method there).
 */
import * as fs from "fs";
import { stepOutputs, type HostCommandState } from "../lib/hostCommandRun";

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
// A secret in state: {"4dabf1...": "1b4706...", "ciphertext": "v1:<nonce>:<AES-GCM of the JSON value>"}
// (the passphrase secrets manager), 86 B of wrapper around a base64 ciphertext.
const cipherSize = (plain: number) => 86 + 20 + 4 * Math.ceil((plain + 16) / 3);
// A preview shows a secret as "[secret]" without its length: the digest an
// output keeps is 64 hex digits; an input's secret environment is counted as
// a K3s token pair (two `K10<64 hex>::server:<64 hex>` in a JSON object, 330 B).
const stateSize = (v: unknown, plain: number) =>
  size(v) + (JSON.stringify(v ?? null).split('"[secret]"').length - 1) * (cipherSize(plain) - 10);
const perHost = new Map<string, { steps: number; bytes: number }>();
const perKind = new Map<string, { n: number; inputs: number; outputs: number }>();
for (const s of preview.steps as { urn: string; newState?: { type: string; inputs: Record<string, unknown> } }[]) {
  if (s.newState?.type !== HOST_STEP) continue;
  const m = /::site-\d+-(s\d+-h\d+)-(\w+)/.exec(s.urn);
  if (!m) continue; // a site's own steps (kubeconfig, CA hash, bootstrap save): per site, not per host
  const inputs = s.newState.inputs;
  // What the provider keeps as outputs for these inputs (lib/hostCommandRun.ts), the secret environment's digest secret.
  const outs = stepOutputs(inputs as unknown as HostCommandState, "") as unknown as Record<string, unknown>;
  if (outs.secretEnvironment !== undefined) outs.secretEnvironment = "[secret]";
  const [inB, outB] = [stateSize(inputs, 330), stateSize(outs, 66)];
  const e = perHost.get(m[1]) ?? { steps: 0, bytes: 0 };
  e.steps += 1;
  e.bytes += inB + outB + perResource;
  perHost.set(m[1], e);
  const k = perKind.get(m[2]) ?? { n: 0, inputs: 0, outputs: 0 };
  k.n += 1;
  k.inputs += inB;
  k.outputs += outB;
  perKind.set(m[2], k);
}
const hosts = [...perHost.values()];
console.log(
  `K3s hosts (preview estimate, ${hosts.length} hosts): ${avg(hosts.map((h) => h.steps)).toFixed(1)} host steps per host, ` +
    `${kb(avg(hosts.map((h) => h.bytes)))} per host (min ${kb(Math.min(...hosts.map((h) => h.bytes)))}, max ${kb(Math.max(...hosts.map((h) => h.bytes)))})`,
);
for (const [kind, k] of perKind) {
  console.log(
    `  ${kind}: ${k.n} steps, inputs ${Math.round(k.inputs / k.n)} B, outputs ${Math.round(k.outputs / k.n)} B, + ${Math.round(perResource)} B engine fields`,
  );
}
