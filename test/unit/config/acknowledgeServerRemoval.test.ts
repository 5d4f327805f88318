/**
 * edgefleet:sites[i].acknowledgeServerRemoval, the escape hatch of
 * infra/serverSetGuard.ts: validate() takes names of servers being removed,
 * refuses a name the site still lists and the key on an upstream site, and
 * the host layer hands the list and its key path to K3sCluster's guard.
 */
import { k3sClusterArgs } from "../../../config/hostLayer";
import { validate } from "../../../config/validate";
import { SECRET_KEYS, problemsOf, validConfig } from "./helpers";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const site = (c: Json, i: number): Json => c["edgefleet:sites"][i];

describe("acknowledgeServerRemoval", () => {
  it("defaults to none, and carries the names of removed servers to the guard with its key path", () => {
    expect(validate("s", validConfig(), SECRET_KEYS).sites[0].acknowledgeServerRemoval).toEqual([]);
    const cfg = validConfig();
    // hub-a 3 -> 1 on purpose: a-s2 and a-s3 leave the inventory and are acknowledged.
    site(cfg, 0).hosts.splice(1, 2);
    site(cfg, 0).acknowledgeServerRemoval = ["a-s2", "a-s3"];
    expect(problemsOf(cfg)).toEqual([]);
    const spec = validate("edge-west", cfg, SECRET_KEYS);
    const args = k3sClusterArgs(spec, spec.sites[0], 0, "key", "/repo");
    expect(args.acknowledgedServerRemovals).toEqual(["a-s2", "a-s3"]);
    expect(args.acknowledgeServerRemovalPath).toBe("edgefleet:sites[0].acknowledgeServerRemoval");
  });

  it("refuses a name the site still lists, with the entry's path", () => {
    const cfg = validConfig();
    site(cfg, 0).acknowledgeServerRemoval = ["a-s9", "a-s2"];
    expect(problemsOf(cfg)).toEqual([
      'edgefleet:sites[0].acknowledgeServerRemoval[1]: names "a-s2", which site hub-a still lists as a host (role: server) | ' +
        "list only servers this change removes from hosts; once they are gone, delete the entry before a host of that name is added again.",
    ]);
  });

  it("refuses a name that could be no host's", () => {
    const cfg = validConfig();
    site(cfg, 1).acknowledgeServerRemoval = ["B_S2"];
    expect(problemsOf(cfg)).toEqual([expect.stringMatching(/^edgefleet:sites\[1\]\.acknowledgeServerRemoval\[0\]: /)]);
  });

  it("refuses the key on an upstream site, which the guard does not cover", () => {
    const cfg = validConfig();
    site(cfg, 1).distribution = "upstream";
    site(cfg, 1).acknowledgeServerRemoval = ["b-s9"];
    expect(problemsOf(cfg)).toContainEqual(
      "edgefleet:sites[1].acknowledgeServerRemoval: site hub-b runs the upstream control plane, whose single server is not guarded | " +
        "remove acknowledgeServerRemoval from the site; it applies to distribution: k3s.",
    );
  });
});
