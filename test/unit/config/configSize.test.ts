import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_ENV_LIMIT_BYTES, checkConfigSize, configEnvBytes } from "../../../config/configSize";
import { parseStackFile } from "../../../config/stackFile";
import { mergeInventory, parseInventory } from "../../../scripts/inventory/inventory";
import { fakeHostKey } from "./helpers";

const STACKS = join(__dirname, "../../../stacks");

/** A CSV of n hosts in sites of 5 (one server each) on documentation IPv6 addresses. */
function csv(n: number): string {
  const rows = ["site,profile,name,address,role,size,hostKey"];
  for (let i = 0; i < n; i++) {
    const site = `s${Math.floor(i / 5)}`;
    rows.push(
      `${site},edgeGeneral,h${i},2001:db8::${(i + 1).toString(16)},${i % 5 === 0 ? "server" : "agent"},4c8g,${fakeHostKey(`h${i}`)}`,
    );
  }
  return rows.join("\n") + "\n";
}

const stackText = readFileSync(join(STACKS, "Pulumi.edge-general.yaml"), "utf8");

describe("the engine's config ceiling (one environment variable, 128 KiB)", () => {
  it("sizes the config as the engine encodes it: structured values JSON inside JSON, name, '=' and NUL", () => {
    const raw = { "edgefleet:region": "r", "edgefleet:sites": [{ name: "a" }] };
    const expected = `PULUMI_CONFIG=${JSON.stringify({ "edgefleet:region": "r", "edgefleet:sites": '[{"name":"a"}]' })}`;
    expect(configEnvBytes(raw)).toBe(expected.length + 1);
  });

  it.each(["logistics-hub", "retail-city", "supply-chain", "edge-general", "factory-iiot", "lab"])(
    "example stack %s has room",
    (stack) => {
      const raw = parseStackFile(readFileSync(join(STACKS, `Pulumi.${stack}.yaml`), "utf8")).rawConfig;
      expect(checkConfigSize(stack, raw)).toBeUndefined();
      expect(configEnvBytes(raw)).toBeLessThan(CONFIG_ENV_LIMIT_BYTES / 4);
    },
  );

  it("an import that would pass the ceiling is flagged too large, naming the stack, the size and the fix", () => {
    const { rows, problems } = parseInventory(csv(900), "big.csv");
    expect(problems).toEqual([]);
    const result = mergeInventory("edge-general", stackText, rows);
    expect(result.problems).toEqual([]);
    const msg = result.tooLarge;
    expect(msg).toMatch(/^stack edge-general: its config \(\d+ hosts\) is \d+\.\d KiB of the 128\.0 KiB/);
    expect(msg).toContain("move the hosts into an inventory file the stack names (edgefleet:inventory");
  });

  it("an import near the ceiling works and is warned; a small one is not", () => {
    const near = mergeInventory("edge-general", stackText, parseInventory(csv(600), "near.csv").rows);
    expect(near.problems).toEqual([]);
    expect(near.warning).toMatch(/stack edge-general: .* it will stop working past the limit/);
    const small = mergeInventory("edge-general", stackText, parseInventory(csv(50), "small.csv").rows);
    expect(small.problems).toEqual([]);
    expect(small.warning).toBeUndefined();
  });
});
