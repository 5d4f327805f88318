/**
 * edgefleet:hostParallelism: at most N hosts of a site are preflighted, and
 * at most N staged, at once; a host waits only for the host N places before
 * it (its lane), never for the whole batch. Registrations under Pulumi
 * mocks, with chosen steps held open, as the engine would see steps still
 * running (clusterMocks.ts).
 */
import { K3sCluster } from "../../../infra/k3sCluster";
import { laneOf } from "../../../infra/stageStep";
import { clusterArgs, clusterHost, installClusterMocks } from "./clusterMocks";

const { registered, held, settle } = installClusterMocks((n) => n.endsWith("-preflight") || n.endsWith("-stage"));
const names = (suffix: string) =>
  registered
    .map((r) => r.name)
    .filter((n) => n.endsWith(suffix))
    .sort();

jest.setTimeout(60_000);

describe("laneOf", () => {
  it("gives item i the item width places before it", () => {
    const items = ["a", "b", "c", "d", "e"];
    expect(items.map((_, i) => laneOf(items, i, 2))).toEqual([undefined, undefined, "a", "b", "c"]);
    expect(items.map((_, i) => laneOf(items, i, 30))).toEqual(items.map(() => undefined));
  });
  it("refuses a width that is not a whole number >= 1", () => {
    expect(() => laneOf([1], 0, 0)).toThrow(/parallelism must be a whole number >= 1, got 0/);
    expect(() => laneOf([1], 0, 1.5)).toThrow(/got 1.5/);
  });
});

describe("K3sCluster with hostParallelism 2 on five hosts", () => {
  it("keeps two preflights and two stagings in flight, each host behind its lane only", async () => {
    const hosts = [clusterHost("s1", 0, "server"), ...[1, 2, 3, 4].map((i) => clusterHost(`a${i}`, i, "agent"))];
    new K3sCluster("site", clusterArgs("site", hosts, { hostParallelism: 2 }));
    await settle();
    expect(names("-preflight")).toEqual(["site-a1-preflight", "site-s1-preflight"]);

    // a1 finishing lets a3 (its lane) start, not a2 (s1's lane).
    held.get("site-a1-preflight")!.finish();
    await settle();
    expect(names("-preflight")).toEqual(["site-a1-preflight", "site-a3-preflight", "site-s1-preflight"]);

    for (const h of ["s1", "a2", "a3", "a4"]) {
      await settle();
      held.get(`site-${h}-preflight`)!.finish();
    }
    await settle();
    expect(names("-preflight")).toHaveLength(5);
    // Staging starts once every preflight passed, two at a time.
    expect(names("-stage")).toEqual(["site-a1-stage", "site-s1-stage"]);
    held.get("site-s1-stage")!.finish();
    await settle();
    expect(names("-stage")).toEqual(["site-a1-stage", "site-a2-stage", "site-s1-stage"]);
  });
});
