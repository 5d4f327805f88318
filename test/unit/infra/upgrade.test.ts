import { parseK3sVersion } from "../../../config/k3sVersion";
import { upgradePlan, validateUpgrade } from "../../../infra/render/upgrade";

describe("validateUpgrade", () => {
  it.each([
    ["v1.33.5+k3s1", "v1.33.5+k3s1", "none"],
    ["v1.33.5+k3s1", "v1.33.5+k3s2", "k3s-rebuild"],
    ["v1.33.5+k3s1", "v1.33.6+k3s1", "patch"],
    ["v1.33.5+k3s1", "v1.34.2+k3s1", "minor"],
  ])("allows %s -> %s (%s)", (from, to, kind) => {
    expect(validateUpgrade(from, to)).toBe(kind);
  });

  it("refuses a downgrade, naming both versions", () => {
    expect(() => validateUpgrade("v1.34.2+k3s1", "v1.34.1+k3s1")).toThrow(
      /K3s downgrade from v1\.34\.2\+k3s1 to v1\.34\.1\+k3s1 refused/,
    );
    expect(() => validateUpgrade("v1.34.2+k3s2", "v1.34.2+k3s1")).toThrow(/downgrade/);
    expect(() => validateUpgrade("v1.34.2+k3s1", "v1.33.9+k3s1")).toThrow(/downgrade/);
  });

  it("refuses a skipped minor and says which release to take first", () => {
    expect(() => validateUpgrade("v1.32.9+k3s1", "v1.34.2+k3s1")).toThrow(
      /skips minor version\(s\) v1\.33\.x\. .*upgrade to the latest v1\.33\.x release first/,
    );
  });

  it("rejects versions not in K3s form", () => {
    expect(() => parseK3sVersion("1.34.2")).toThrow(/expected the form v1\.34\.2\+k3s1/);
    expect(() => validateUpgrade("v1.34.2-rc1+k3s1", "v1.34.2+k3s1")).toThrow(/not a K3s release version/);
  });
});

describe("upgradePlan", () => {
  const hosts = [
    { name: "a1", role: "agent" as const },
    { name: "s1", role: "server" as const },
    { name: "a2", role: "agent" as const },
    { name: "s2", role: "server" as const },
    { name: "a3", role: "agent" as const },
    { name: "s3", role: "server" as const },
    { name: "a4", role: "agent" as const },
    { name: "a5", role: "agent" as const },
  ];

  it("upgrades servers one at a time, then agents in batches", () => {
    expect(upgradePlan(hosts, 2)).toEqual([["s1"], ["s2"], ["s3"], ["a1", "a2"], ["a3", "a4"], ["a5"]]);
    expect(upgradePlan(hosts, 10)).toEqual([["s1"], ["s2"], ["s3"], ["a1", "a2", "a3", "a4", "a5"]]);
  });

  it("rejects bad batch sizes and duplicate hosts", () => {
    expect(() => upgradePlan(hosts, 0)).toThrow(/positive integer/);
    expect(() => upgradePlan(hosts, 1.5)).toThrow(/positive integer/);
    expect(() => upgradePlan([...hosts, { name: "s1", role: "server" }], 1)).toThrow(/appears twice/);
  });
});
