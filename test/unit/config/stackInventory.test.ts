/**
 * A stack's hosts in inventory files (issue 15): read by the program through
 * validateStack(), validated exactly like inline hosts, with file and line in
 * every message, and kept out of the engine's config.
 */
import { expandInventories, validateStack } from "../../../config/inventory";
import { checkConfigSize } from "../../../config/configSize";
import { ConfigError, validate } from "../../../config/validate";
import { fakeHostKey, SECRET_KEYS, validConfig } from "./helpers";

type Site = { name: string; profile: string; hosts?: Array<Record<string, unknown>>; inventory?: string };

const HUB_B_CSV = [
  "site,name,address,role,size,hostKey",
  `hub-b,b-s1,198.51.100.11,server,2c4g,${fakeHostKey("b-s1")}`,
  `hub-b,b-a1,198.51.100.21,agent,8/16Gi,${fakeHostKey("b-a1")}`,
].join("\n");

/** validConfig() with hub-b's hosts moved out to files, as the engine would pass it (JSON text). */
function engineConfig(edit: (c: Record<string, unknown>, sites: Site[]) => void): Record<string, string> {
  const c = validConfig();
  const sites = c["edgefleet:sites"] as Site[];
  delete sites[1].hosts;
  edit(c, sites);
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

const files =
  (m: Record<string, string>) =>
  (f: string): string => {
    if (!(f in m)) throw new Error(`ENOENT: no such file or directory, open '${f}'`);
    return m[f];
  };

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.problem} | ${p.fix}`);
    throw e;
  }
  return [];
}

describe("hosts from inventory files", () => {
  const inline = validate("s", validConfig(), SECRET_KEYS);

  it("a region file gives the same stack as the same hosts inline", () => {
    const cfg = engineConfig((c) => (c["edgefleet:inventory"] = ["inventories/cn-east.csv"]));
    const spec = validateStack("s", cfg, SECRET_KEYS, files({ "inventories/cn-east.csv": HUB_B_CSV }));
    expect(spec).toEqual(inline);
  });

  it("a site's own YAML file gives the same stack, its rows need no site", () => {
    const yaml = [
      "hosts:",
      `  - { name: b-s1, address: 198.51.100.11, role: server, size: 2c4g, hostKey: "${fakeHostKey("b-s1")}" }`,
      "  - name: b-a1",
      "    address: 198.51.100.21",
      "    role: agent",
      "    size: { cpu: 8, memory: 16Gi }",
      `    hostKey: "${fakeHostKey("b-a1")}"`,
    ].join("\n");
    const cfg = engineConfig((_c, sites) => (sites[1].inventory = "inventories/hub-b.yaml"));
    expect(validateStack("s", cfg, SECRET_KEYS, files({ "inventories/hub-b.yaml": yaml }))).toEqual(inline);
  });

  it("adds a site the stack does not list when its rows name a profile", () => {
    const csv = [
      "site,profile,name,address,role,size,hostKey",
      `hub-c,edgeGeneral,c-s1,203.0.113.31,server,4c8g,${fakeHostKey("c-s1")}`,
    ].join("\n");
    const cfg = engineConfig((c) => (c["edgefleet:inventory"] = ["a.csv", "b.csv"]));
    const spec = validateStack("s", cfg, SECRET_KEYS, files({ "a.csv": HUB_B_CSV, "b.csv": csv }));
    expect(spec.sites.map((s) => [s.name, s.profile, s.hosts.length])).toEqual([
      ["hub-a", "logisticsHub", 5],
      ["hub-b", "retailCity", 2],
      ["hub-c", "edgeGeneral", 1],
    ]);
  });

  it("a bad host in a file is reported with the file and line beside its key path", () => {
    const csv = HUB_B_CSV.replace("198.51.100.21", "198.51.100.300");
    const cfg = engineConfig((c) => (c["edgefleet:inventory"] = ["inventories/cn-east.csv"]));
    expect(problems(() => validateStack("s", cfg, SECRET_KEYS, files({ "inventories/cn-east.csv": csv })))).toEqual([
      expect.stringMatching(
        /^inventories\/cn-east\.csv:3: edgefleet:sites\[1\]\.hosts\[1\]\.address: "198\.51\.100\.300" is not an IPv4 or IPv6 address/,
      ),
    ]);
  });

  it("a YAML row's problem names its line", () => {
    const yaml = ["- name: b-s1", "  address: 198.51.100.11", "  site: hub-b", "  size: 2c4g", "- 42"].join("\n");
    const cfg = engineConfig((c) => (c["edgefleet:inventory"] = ["h.yaml"]));
    expect(problems(() => validateStack("s", cfg, SECRET_KEYS, files({ "h.yaml": yaml })))).toEqual([
      expect.stringMatching(/^edgefleet:inventory\[0\] \(h\.yaml:5\): not a mapping/),
      expect.stringMatching(/^edgefleet:inventory\[0\] \(h\.yaml:1\): no role/),
    ]);
  });

  it("refuses a missing file, a path outside the project, and a file of another kind, naming the key", () => {
    const cfg = engineConfig((c, sites) => {
      c["edgefleet:inventory"] = ["inventories/missing.csv", "/etc/hosts.csv", "../x.csv", "hosts.txt"];
      sites[1].inventory = "inventories/hub-b.csv";
    });
    expect(problems(() => validateStack("s", cfg, SECRET_KEYS, files({ "inventories/hub-b.csv": HUB_B_CSV })))).toEqual(
      [
        expect.stringMatching(
          /^edgefleet:inventory\[0\]: cannot read inventories\/missing\.csv: ENOENT.*\| name a CSV/,
        ),
        expect.stringMatching(/^edgefleet:inventory\[1\]: \/etc\/hosts\.csv is outside the project folder/),
        expect.stringMatching(/^edgefleet:inventory\[2\]: \.\.\/x\.csv is outside the project folder/),
        expect.stringMatching(/^edgefleet:inventory\[3\]: hosts\.txt is neither \.csv nor/),
      ],
    );
  });

  it("refuses a site whose hosts are both inline and in a file, and a row for another site in a site's file", () => {
    const cfg = engineConfig((c, sites) => {
      c["edgefleet:inventory"] = ["region.csv"];
      sites[0].inventory = "hub-a.csv";
    });
    const hubA = ["site,name,address,role,hostKey", `hub-x,x-1,192.0.2.99,server,${fakeHostKey("x-1")}`].join("\n");
    const region = HUB_B_CSV.replace(/hub-b,b-a1/, "hub-a,b-a1");
    expect(
      problems(() => validateStack("s", cfg, SECRET_KEYS, files({ "region.csv": region, "hub-a.csv": hubA }))),
    ).toEqual([
      expect.stringMatching(/^edgefleet:sites\[0\]\.inventory \(hub-a\.csv:2\): the row is for site hub-x/),
      expect.stringMatching(/^edgefleet:sites\[0\]\.hosts: site hub-a lists hosts inline and in region\.csv/),
    ]);
  });

  it("keeps the engine's config small however many hosts the file holds", () => {
    const rows = ["site,profile,name,address,role,size,hostKey"];
    for (let i = 0; i < 2000; i++) {
      const a = `2001:db8::${(i + 1).toString(16)}`;
      rows.push(
        `big-${Math.floor(i / 5)},edgeGeneral,h${i},${a},${i % 5 ? "agent" : "server"},4c8g,${fakeHostKey(`h${i}`)}`,
      );
    }
    for (const line of HUB_B_CSV.split("\n").slice(1)) rows.push(line.replace(/^hub-b,/, "hub-b,,"));
    const big = files({ "big.csv": rows.join("\n") });
    const cfg = engineConfig((c) => (c["edgefleet:inventory"] = ["big.csv"]));
    expect(checkConfigSize("s", cfg)).toBeUndefined();
    expect(expandInventories(cfg, big).problems).toEqual([]);
    const spec = validateStack("s", cfg, SECRET_KEYS, big);
    expect(spec.sites.reduce((n, s) => n + s.hosts.length, 0)).toBe(2000 + 2 + 5);
  });
});
