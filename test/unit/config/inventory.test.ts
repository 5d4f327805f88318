import { readFileSync } from "node:fs";
import { join } from "node:path";
import { mergeInventory, mergeInventoryFile, parseCsv, parseInventory } from "../../../scripts/inventory/inventory";
import { copySecret, hasSecret, pinArtifacts, sha256Hex } from "../../../scripts/inventory/stackEdit";
import { parseStackFile } from "../../../config/stackFile";
import { fakeHostKey } from "./helpers";

const FIXTURE = join(__dirname, "fixtures/retail-cities.csv");

/** A stack with shared settings, one hand-written site and a comment to keep. */
function stackText(): string {
  return [
    "# header comment that must survive",
    "config:",
    "  edgefleet:region: cn-south",
    "  edgefleet:k3s:",
    "    version: v1.34.2+k3s1",
    "    artifacts:",
    "      dir: artifacts/k3s",
    '      k3s: { file: k3s, sha256: "' + "a".repeat(64) + '" }',
    '      images: { file: images.tar.zst, sha256: "' + "b".repeat(64) + '" }',
    '      wasmedgeShim: { file: shim, sha256: "' + "c".repeat(64) + '" }',
    "  edgefleet:ssh:",
    "    user: edgefleet",
    "    port: 22",
    "    privateKey:",
    "      secure: v1:opaque",
    "  edgefleet:sites:",
    "    # the hand-written site",
    "    - name: hq",
    "      profile: retailCity",
    "      hosts:",
    '        - { name: hq-s1, address: 203.0.113.250, role: server, size: 2c4g, hostKey: "' +
      fakeHostKey("hq-s1") +
      '" }',
    "encryptionsalt: v1:salt",
    "",
  ].join("\n");
}

describe("parseCsv", () => {
  it("handles quotes, embedded commas, doubled quotes, CRLF and blank lines", () => {
    expect(parseCsv('a,b,c\r\n"x,1","say ""hi""",\n\n3,4,5')).toEqual([
      ["a", "b", "c"],
      ["x,1", 'say "hi"', ""],
      ["3", "4", "5"],
    ]);
  });
});

describe("import: hundreds of hosts from CSV", () => {
  const csv = readFileSync(FIXTURE, "utf8");

  it("groups 300 hosts into 60 sites and the stack validates", () => {
    const { rows, problems } = parseInventory(csv, "retail-cities.csv");
    expect(problems).toEqual([]);
    expect(rows).toHaveLength(300);
    const result = mergeInventory("retail-city", stackText(), rows);
    expect(result.problems).toEqual([]);
    expect(result.added).toHaveLength(60);
    const spec = result.spec!;
    expect(spec.sites).toHaveLength(61);
    expect(spec.sites.reduce((n, s) => n + s.hosts.length, 0)).toBe(301);
    const c020 = spec.sites.find((s) => s.name === "city-020")!;
    expect(c020.hosts.map((h) => h.role)).toEqual(["server", "agent", "agent", "agent", "agent"]);
    expect(c020.hosts[4].size).toMatchObject({
      name: "custom",
      spec: { cpuMillis: 4000, memoryMiB: 8192 },
    });
    expect(c020.hosts[1].labels).toEqual({
      "topology.kubernetes.io/zone": "city-020",
      "edgefleet.dev/city-tier": "2",
    });
    expect(spec.sites.find((s) => s.name === "city-003")!.hosts[1].port).toBe(2222);
    expect(spec.sites.find((s) => s.name === "city-007")!.hosts[4].taints).toEqual([
      {
        key: "edgefleet.dev/mqtt-gateway",
        value: "true",
        effect: "NoSchedule",
      },
    ]);
  });

  it("keeps comments, the secret and the hand-written site; omits defaults", () => {
    const { rows } = parseInventory(csv, "retail-cities.csv");
    const { text } = mergeInventory("retail-city", stackText(), rows);
    expect(text).toContain("# header comment that must survive");
    expect(text).toContain("# the hand-written site");
    expect(parseStackFile(text).secretKeys.has("edgefleet:ssh")).toBe(true);
    expect(text).not.toMatch(/user: edgefleet\n\s+role/); // equal to edgefleet:ssh.user: left out
  });

  it("replaces the hosts of a site the input names, and only those", () => {
    const csvText = [
      "site,name,address,role,size,hostKey",
      `hq,hq-s9,203.0.113.249,server,4c8g,${fakeHostKey("hq-s9")}`,
    ].join("\n");
    const { rows } = parseInventory(csvText, "hq.csv");
    const result = mergeInventory("retail-city", stackText(), rows);
    expect(result.replaced).toEqual(["hq"]);
    expect(result.spec!.sites[0].hosts.map((h) => h.name)).toEqual(["hq-s9"]);
  });
});

describe("import --inventory: hosts into a file the stack names", () => {
  const csv = readFileSync(FIXTURE, "utf8");
  const noFiles = (f: string): string => {
    throw new Error(`unexpected read of ${f}`);
  };

  it.each(["inventories/retail.csv", "inventories/retail.yaml"])(
    "writes %s, names it in the stack, and the program reads the same stack back",
    (file) => {
      const { rows } = parseInventory(csv, "retail-cities.csv");
      const inline = mergeInventory("retail-city", stackText(), rows).spec!;
      const r = mergeInventoryFile("retail-city", stackText(), rows, file, noFiles);
      expect(r.problems).toEqual([]);
      expect(r.spec).toEqual(inline);
      const cfg = parseStackFile(r.text).rawConfig;
      expect(cfg["edgefleet:inventory"]).toEqual([file]);
      expect(JSON.stringify(cfg["edgefleet:sites"])).not.toContain("c020-a1");
      expect(r.text).toContain("# header comment that must survive");
      expect(parseInventory(r.inventoryText, file).rows.map((x) => x.host)).toEqual(rows.map((x) => x.host));
    },
  );

  it("keeps the stack unwritten when a row is bad, naming the row", () => {
    const bad = csv.replace("192.0.2.3,", "192.0.2.300,");
    const { rows } = parseInventory(bad, "retail-cities.csv");
    const r = mergeInventoryFile("retail-city", stackText(), rows, "inventories/retail.csv", noFiles);
    expect(r.spec).toBeUndefined();
    expect(r.problems).toEqual([
      expect.stringMatching(
        /^inventories\/retail\.csv:3: edgefleet:sites\[\d+\]\.hosts\[1\]\.address: "192\.0\.2\.300"/,
      ),
    ]);
  });
});

describe("import: problems name the input line", () => {
  it("reports row problems: unknown column, no role, no site, a new site without profile", () => {
    const bad = [
      "site,name,address,colour,hostKey",
      `,x1,192.0.2.1,red,${fakeHostKey("x1")}`,
      `new,x2,192.0.2.2,blue,${fakeHostKey("x2")}`,
    ].join("\n");
    const { rows, problems } = parseInventory(bad, "bad.csv");
    expect(problems.map((p) => `${p.source}: ${p.problem}`)).toEqual([
      expect.stringMatching(/^bad\.csv:1: unknown column\(s\) colour/),
      expect.stringMatching(/^bad\.csv:2: no site/),
      expect.stringMatching(/^bad\.csv:3: no role/),
    ]);
    const result = mergeInventory("s", stackText(), rows);
    expect(result.problems).toContainEqual(
      expect.stringMatching(/^bad\.csv:3: site new is new to the stack and has no profile/),
    );
    expect(result.spec).toBeUndefined();
  });

  it("maps validation problems back to the CSV line", () => {
    const csvText = [
      "site,profile,name,address,role,size,hostKey",
      `b1,retailCity,b1-s1,192.0.2.10,server,2c4g,${fakeHostKey("b1-s1")}`,
      `b1,retailCity,b1-a1,192.0.2.300,agent,2c4g,${fakeHostKey("b1-a1")}`,
      `b1,retailCity,b1-a2,192.0.2.12,agent,9c9g,${fakeHostKey("b1-a2")}`,
    ].join("\n");
    const { rows } = parseInventory(csvText, "b.csv");
    const result = mergeInventory("s", stackText(), rows);
    expect(result.problems).toEqual([
      expect.stringMatching(
        /^edgefleet:sites\[1\]\.hosts\[1\]\.address \(b\.csv:3\): "192\.0\.2\.300" is not an IPv4 or IPv6 address/,
      ),
      expect.stringMatching(/^edgefleet:sites\[1\]\.hosts\[2\]\.size \(b\.csv:4\): unknown size class "9c9g"/),
    ]);
  });
});

describe("import: the lab's inventory.json", () => {
  it("takes a JSON `hosts` list with --site, --servers and --size", () => {
    const json = JSON.stringify({
      version: 1,
      hosts: [
        {
          name: "ef-1",
          address: "198.18.0.11",
          port: 22,
          user: "root",
          hostKey: fakeHostKey("ef-1"),
          sshdLog: "/x",
          fsRoot: "/y",
          netns: "ef-1",
        },
        {
          name: "ef-2",
          address: "198.18.0.12",
          port: 22,
          user: "root",
          hostKey: fakeHostKey("ef-2"),
          sshdLog: "/x",
          fsRoot: "/y",
          netns: "ef-2",
        },
      ],
    });
    const defaults = {
      site: "lab-1",
      profile: "edgeGeneral",
      servers: 1,
      size: "4c8g",
    };
    const { rows, problems } = parseInventory(json, "inventory.json", defaults);
    expect(problems).toEqual([]);
    const spec = mergeInventory("lab", stackText(), rows, defaults).spec!;
    const lab = spec.sites.find((s) => s.name === "lab-1")!;
    expect(lab.hosts.map((h) => [h.name, h.role, h.user])).toEqual([
      ["ef-1", "server", "root"],
      ["ef-2", "agent", "root"],
    ]);
  });
});

describe("stack edits keep the file", () => {
  it("copySecret takes only the salt and the secure value from the sealed copy", () => {
    const original = "# keep me\nconfig:\n  edgefleet:ssh:\n    user: edgefleet # inline\n";
    const sealed =
      "encryptionsalt: v1:s\nconfig:\n  edgefleet:ssh:\n    user: edgefleet\n    privateKey:\n      secure: v1:c\n";
    const out = copySecret(original, sealed, ["edgefleet:ssh", "privateKey"]);
    expect(out).toBe(
      "# keep me\nconfig:\n  edgefleet:ssh:\n    user: edgefleet # inline\n    privateKey:\n      secure: v1:c\nencryptionsalt: v1:s\n",
    );
    expect(hasSecret(out, ["edgefleet:ssh", "privateKey"])).toBe(true);
    expect(hasSecret(original, ["edgefleet:ssh", "privateKey"])).toBe(false);
  });

  it("pinArtifacts writes each file's sha256", () => {
    const out = pinArtifacts(stackText(), (_dir, f) => sha256Hex(f));
    const k3s = (
      parseStackFile(out).rawConfig["edgefleet:k3s"] as {
        artifacts: Record<string, { sha256: string }>;
      }
    ).artifacts;
    expect(k3s.k3s.sha256).toBe(sha256Hex("k3s"));
    expect(k3s.wasmedgeShim.sha256).toBe(sha256Hex("shim"));
    expect(out).toContain("# header comment that must survive");
  });
});
