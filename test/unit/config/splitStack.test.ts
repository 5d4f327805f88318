import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseStackFile } from "../../../config/stackFile";
import { validate } from "../../../config/validate";
import { mergeInventory, parseInventory } from "../../../scripts/inventory/inventory";
import { splitStack } from "../../../scripts/inventory/splitStack";
import { fakeHostKey } from "./helpers";

const base = readFileSync(join(__dirname, "../../../stacks/Pulumi.edge-general.yaml"), "utf8");

/** The edge-general stack grown to n more hosts in sites of 1 to 5 hosts. */
function bigStack(n: number): string {
  const rows = ["site,profile,name,address,role,size,hostKey"];
  let made = 0;
  for (let s = 0; made < n; s++) {
    const size = Math.min(1 + (s % 5), n - made);
    for (let h = 0; h < size; h++, made++)
      rows.push(
        `g${s},edgeGeneral,g${s}-h${h},2001:db8::${(made + 1).toString(16)},${h === 0 ? "server" : "agent"},4c8g,${fakeHostKey(`g${made}`)}`,
      );
  }
  const result = mergeInventory("big", base, parseInventory(rows.join("\n") + "\n", "big.csv").rows);
  expect(result.problems).toEqual([]);
  // Past one stack's ceiling: exactly the case splitting is for.
  expect(result.tooLarge).toBeDefined();
  return result.text;
}

describe("splitting a region into stacks of whole sites", () => {
  const text = bigStack(900);
  const original = parseStackFile(text);
  const originalSites = (original.rawConfig["edgefleet:sites"] as { name: string; hosts: unknown[] }[]).map(
    (s) => s.name,
  );
  const pieces = splitStack("big", text, 400);

  it("makes as few pieces as the budget allows, each under it, sites in order and each site whole", () => {
    expect(pieces.map((p) => p.stack)).toEqual(["big-a", "big-b", "big-c"]);
    for (const p of pieces) expect(p.hosts).toBeLessThanOrEqual(400);
    expect(pieces.flatMap((p) => p.sites)).toEqual(originalSites);
    expect(pieces.reduce((n, p) => n + p.hosts, 0)).toBe(
      (original.rawConfig["edgefleet:sites"] as { hosts: unknown[] }[]).reduce((n, s) => n + s.hosts.length, 0),
    );
  });

  it("each piece keeps the shared settings and sealed secrets, and validates on its own", () => {
    for (const p of pieces) {
      const file = parseStackFile(p.text);
      expect(file.encryptionSalt).toBe(original.encryptionSalt);
      expect(file.secretKeys).toEqual(original.secretKeys);
      for (const key of Object.keys(original.rawConfig).filter((k) => k !== "edgefleet:sites"))
        expect([key, file.rawConfig[key]]).toEqual([key, original.rawConfig[key]]);
      const spec = validate(p.stack, file.rawConfig, file.secretKeys);
      expect(spec.sites.map((s) => s.name)).toEqual(p.sites);
    }
  });

  it("refuses to cut a site in two", () => {
    expect(() => splitStack("big", text, 3)).toThrow(
      /site edge-beijing of stack big has 7 hosts, more than --max-hosts 3; a site is one cluster/,
    );
  });
});
