import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseStackFile } from "../../../config/stackFile";
import { validate } from "../../../config/validate";
import { LAB_RANGE } from "../../../config/schema";
import { k3sServerCount } from "../../../config/k3sDatastore";
import { cidrContainsAddress, parseCidr4 } from "../../../config/net";

const STACKS_DIR = join(__dirname, "../../../stacks");
const EXAMPLES = ["logistics-hub", "retail-city", "supply-chain", "edge-general", "factory-iiot"];
const DOC_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map((c) => parseCidr4(c)!);

function load(stack: string) {
  const text = readFileSync(join(STACKS_DIR, `Pulumi.${stack}.yaml`), "utf8");
  const file = parseStackFile(text);
  return { text, file, spec: validate(stack, file.rawConfig, file.secretKeys) };
}

describe("example stacks", () => {
  it("are the five cases and the lab, and nothing else", () => {
    const found = readdirSync(STACKS_DIR)
      .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
      .map((f) => f.slice("Pulumi.".length, -".yaml".length))
      .sort();
    expect(found).toEqual([...EXAMPLES, "lab"].sort());
  });

  it.each(EXAMPLES)("%s passes validate(), holds 2-3 sites on documentation addresses, and cites its case", (stack) => {
    const { text, file, spec } = load(stack);
    expect(spec.sites.length).toBeGreaterThanOrEqual(2);
    expect(spec.sites.length).toBeLessThanOrEqual(3);
    for (const h of spec.sites.flatMap((s) => s.hosts)) {
      if (h.address.includes(":")) expect(h.address.startsWith("2001:db8:")).toBe(true);
      else expect(DOC_RANGES.some((r) => cidrContainsAddress(r, h.address))).toBe(true);
    }
    expect(text).toMatch(/shared\/seeds\/00[0-4]_[0-9a-f]+\.txt/);
    // The SSH key is sealed by the passphrase provider, never plain.
    expect(file.encryptionSalt).toMatch(/^v1:/);
    expect(file.secretKeys.has("edgefleet:ssh")).toBe(true);
    expect(spec.lab).toBeUndefined();
  });

  it("profiles follow the cases", () => {
    const profiles = Object.fromEntries(
      EXAMPLES.map((s) => [s, [...new Set(load(s).spec.sites.map((x) => x.profile))]]),
    );
    expect(profiles).toEqual({
      "logistics-hub": ["logisticsHub"],
      "retail-city": ["retailCity"],
      "supply-chain": ["supplyChain"],
      "edge-general": ["edgeGeneral"],
      "factory-iiot": ["factoryIiot"],
    });
    // The factory case runs K3s on sqlite: one server per factory.
    expect(
      load("factory-iiot").spec.sites.map((s) => k3sServerCount(s.hosts.filter((h) => h.role === "server").length)),
    ).toEqual(
      load("factory-iiot").spec.sites.map(() => ({ verdict: "runs", datastore: "sqlite", clusterInit: false })),
    );
    // Retail and factory cases run 2C4G boxes.
    for (const s of ["retail-city", "factory-iiot"]) {
      expect(new Set(load(s).spec.sites.flatMap((x) => x.hosts.map((h) => h.size.name)))).toEqual(new Set(["2c4g"]));
    }
  });

  it("lab: one supervised edgeGeneral site on the lab bridge, servers without agent, KWOK nodes", () => {
    const { spec } = load("lab");
    expect(spec.sites).toHaveLength(1);
    const [site] = spec.sites;
    expect(site).toMatchObject({
      profile: "edgeGeneral",
      serviceMode: "supervise",
      disableAgentOnServers: true,
    });
    expect(site.kwok?.nodes).toBeGreaterThan(0);
    expect(spec.lab).toMatchObject({
      hosts: site.hosts.length,
      kwokNodes: site.kwok?.nodes,
    });
    const range = parseCidr4(LAB_RANGE)!;
    expect(site.hosts.every((h) => cidrContainsAddress(range, h.address))).toBe(true);
  });
});
