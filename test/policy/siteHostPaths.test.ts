/**
 * A site's hostPath entries reach both enforcement points from one decision
 * (policies/siteHostPaths.ts): the site's Constraints (config/siteLayer.ts)
 * and CrossGuard's per-stack config (scripts/inventory/policy-config.ts) give
 * every site of every example stack the same entries, and the decision agrees
 * with the site layer about which profiles run the log shipper.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { PROFILE_NAMES, getProfile } from "../../config/profiles";
import type { StackSpec } from "../../config/schema";
import { gatekeeperPolicies } from "../../config/siteLayer";
import { siteOptions, type SiteOptionsConfig } from "../../policies/crossguard/config";
import { GATEKEEPER_POLICIES, hostPathEntry } from "../../policies/gatekeeper/catalog";
import { siteHostPaths } from "../../policies/siteHostPaths";
import { THRESHOLDS } from "../../policies/thresholds";
import { policyConfig } from "../../scripts/inventory/policy-config";
import { EXAMPLE_STACKS, loadStack as load } from "../../policies/scripts/renderStack";
import { REPO } from "./tools";

/** Per site: [the Constraint's allowedHostPaths, the CrossGuard rule's for a workload of that site]. */
function bothPoints(spec: StackSpec): Record<string, [unknown, unknown]> {
  const hostFs = GATEKEEPER_POLICIES.find((p) => p.dir === "host-filesystem")!;
  const cfg = policyConfig(spec)["host-filesystem"] as SiteOptionsConfig;
  return Object.fromEntries(
    spec.sites.map((site) => {
      const constraint = gatekeeperPolicies(site, spec).constraints.find((c) => c.kind === hostFs.kind)!;
      const preview = hostFs.parameters(THRESHOLDS, siteOptions(cfg, site.name));
      return [site.name, [constraint.spec.parameters.allowedHostPaths, preview.allowedHostPaths]];
    }),
  );
}

describe("a site's hostPath entries", () => {
  test("the profiles that ship logs are the ones whose site layer runs Loki and the log shipper", () => {
    for (const p of PROFILE_NAMES) {
      const { loki, logShipper } = getProfile(p).extras;
      expect({ p, ships: siteHostPaths({ profile: p }).length > 0 }).toEqual({ p, ships: loki && logShipper });
    }
  });

  test("a site that ships logs gets /var/log read-only, and only that", () => {
    expect(siteHostPaths({ profile: "factoryIiot" })).toEqual([{ pathPrefix: "/var/log", readOnly: true }]);
    expect(siteHostPaths({ profile: "retailCity" })).toEqual([]);
  });

  test.each(EXAMPLE_STACKS)("%s: each site's Constraint and CrossGuard config give the same entries", (stack) => {
    const spec = load(stack);
    for (const [site, [constraint, preview]] of Object.entries(bothPoints(spec))) {
      const profile = spec.sites.find((s) => s.name === site)!.profile;
      const expected = [...THRESHOLDS.allowedHostPaths, ...siteHostPaths({ profile })].map(hostPathEntry);
      expect({ site, constraint, preview }).toEqual({ site, constraint: expected, preview: expected });
    }
  });

  test("a stack whose sites differ in profile gives each site its own entries", () => {
    const spec = load("factory-iiot");
    spec.sites[1] = { ...spec.sites[1], profile: "edgeGeneral" };
    const [factory, general] = spec.sites.map((s) => bothPoints(spec)[s.name]);
    expect(factory[0]).toEqual(factory[1]);
    expect(general[0]).toEqual(general[1]);
    expect(factory[0]).toContainEqual({ pathPrefix: "/var/log", readOnly: true });
    expect(general[0]).toEqual(THRESHOLDS.allowedHostPaths);
  });

  test("policy-config.ts prints them when run as CI runs it (run-ts.sh, Node's type stripping)", () => {
    const r = spawnSync(
      "bash",
      ["scripts/inventory/run-ts.sh", "scripts/inventory/policy-config.ts", "stacks/Pulumi.factory-iiot.yaml"],
      {
        cwd: REPO,
        encoding: "utf8",
        // The Node running jest is the project's; run-ts.sh takes `node` from PATH.
        env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}` },
      },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const cfg = JSON.parse(r.stdout);
    expect(cfg["host-filesystem"]).toEqual({
      sites: {
        "factory-suzhou": { extraHostPaths: [{ pathPrefix: "/var/log", readOnly: true }] },
        "factory-wuxi": { extraHostPaths: [{ pathPrefix: "/var/log", readOnly: true }] },
      },
    });
  });
});
