import { compareK3sVersions, isK3sVersion, parseK3sVersion } from "../../../config/k3sVersion";
import { ConfigError, validate } from "../../../config/validate";
import { HOST_LAYER_DEFAULTS, k3sPinViolations } from "../../../policies/crossguard/rules/hostLayer";
import { validateUpgrade } from "../../../infra/render/upgrade";
import { validConfig } from "./helpers";

const RELEASES = ["v1.34.2+k3s1", "v1.35.4+k3s2", "v1.30.10+k3s12", "v1.0.0+k3s1"];
const NOT_RELEASES = [
  "1.34.2+k3s1",
  "v1.34.2",
  "v1.34+k3s1",
  "v1.34.2-k3s1",
  "v1.34.2-rc1+k3s1",
  "v2.0.0+k3s1",
  "V1.34.2+k3s1",
  "v1.34.2+k3s",
  "v1.34.2+k3s1 ",
  "stable",
  "latest",
  "",
];

/** What each place that judges a K3s version says about `v`. */
function verdicts(v: string): { config: boolean; crossguard: boolean; upgrade: boolean } {
  const cfg = validConfig();
  (cfg["edgefleet:k3s"] as { version: string }).version = v;
  let config = true;
  try {
    validate("s", cfg, new Set(["edgefleet:ssh"]));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    config = !e.problems.some((p) => p.path === "edgefleet:k3s.version");
  }
  const crossguard =
    k3sPinViolations("pulumi-nodejs:dynamic/edgefleet:VersionGuard", { where: "s", version: v }, HOST_LAYER_DEFAULTS)
      .length === 0;
  let upgrade = true;
  try {
    validateUpgrade(v, v);
  } catch {
    upgrade = false;
  }
  return { config, crossguard, upgrade };
}

describe("the K3s version grammar", () => {
  it.each(RELEASES)("%s is a release everywhere: validation, CrossGuard's k3s-pinned and the upgrade rules", (v) => {
    expect(isK3sVersion(v)).toBe(true);
    expect(verdicts(v)).toEqual({ config: true, crossguard: true, upgrade: true });
  });

  it.each(NOT_RELEASES)("%j is refused everywhere", (v) => {
    expect(isK3sVersion(v)).toBe(false);
    expect(verdicts(v)).toEqual({ config: false, crossguard: false, upgrade: false });
  });

  it("reads the parts and orders releases by minor, patch, then K3s build", () => {
    expect(parseK3sVersion("v1.30.10+k3s12")).toEqual({ minor: 30, patch: 10, k3s: 12, raw: "v1.30.10+k3s12" });
    const sorted = ["v1.34.2+k3s2", "v1.33.9+k3s1", "v1.34.10+k3s1", "v1.34.2+k3s1"]
      .map(parseK3sVersion)
      .sort(compareK3sVersions)
      .map((v) => v.raw);
    expect(sorted).toEqual(["v1.33.9+k3s1", "v1.34.2+k3s1", "v1.34.2+k3s2", "v1.34.10+k3s1"]);
    expect(() => parseK3sVersion("stable")).toThrow(/"stable" is not a K3s release version/);
  });
});
