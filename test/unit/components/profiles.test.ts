import { getProfile, PROFILE_NAMES, PROFILES } from "../../../config/profiles";
import { regionTrackerReplicas, siteTrackerReplicas } from "../../../components/profiles";

describe("profiles (the five cases)", () => {
  it.each([
    ["logisticsHub", 2000, 400, "4c8g", [200, 256, 1000, 1024], 20],
    ["retailCity", 500, 100, "2c4g", [50, 128, 200, 256], 30],
    ["supplyChain", 200, 40, "4c8g", [100, 128, 500, 512], 30],
    ["edgeGeneral", 5000, 100, "4c8g", [100, 128, 500, 512], 50],
    ["factoryIiot", 100, 10, "2c4g", [50, 64, 200, 128], 50],
  ] as const)(
    "%s carries the case's fleet, node class, tracker resources and P99",
    (name, nodes, replicas, size, r, p99) => {
      const p = getProfile(name);
      expect(p.fleet).toEqual({ edgeNodes: nodes, trackerReplicas: replicas });
      expect(p.sizeClass).toBe(size);
      expect(p.tracker.resources).toEqual({
        requests: { cpuMillis: r[0], memoryMiB: r[1] },
        limits: { cpuMillis: r[2], memoryMiB: r[3] },
      });
      expect(p.slo.p99LatencyMs).toBe(p99);
      expect(p.slo.availability).toBe(0.999);
    },
  );

  it("keeps the cases' ConfigMap settings", () => {
    expect(PROFILES["logisticsHub"].tracker.settings).toMatchObject({
      cacheEnabled: true,
      cacheTtl: "10s",
      maxConnections: 20000,
      queryTimeout: "20ms",
    });
    expect(PROFILES["supplyChain"].tracker.settings).toMatchObject({
      syncEnabled: true,
      syncInterval: "10s",
      cacheEnabled: true,
      cacheTtl: "300s",
    });
    expect(PROFILES["edgeGeneral"].tracker.settings).toMatchObject({
      offlineMode: true,
      localStorage: true,
      syncInterval: "60s",
    });
    expect(PROFILES["factoryIiot"].tracker.settings).toMatchObject({
      databasePath: "/data/industrial-iot.db",
      offlineMode: true,
      syncInterval: "300s",
    });
  });

  it("has the extras the cases name", () => {
    expect(PROFILES["logisticsHub"].extras.redis).toBeDefined();
    expect(PROFILES["logisticsHub"].extras.rabbitmq?.mqtt).toBe(false);
    expect(PROFILES["retailCity"].extras.rabbitmq?.mqtt).toBe(true);
    expect(PROFILES["retailCity"].extras.redis).toBeUndefined();
    expect(PROFILES["supplyChain"].extras.rabbitmq).toBeDefined();
    expect(PROFILES["edgeGeneral"].extras.redis?.persistence).toBe("aof");
    expect(PROFILES["factoryIiot"].extras).toMatchObject({
      sqliteHostPath: "/var/lib/industrial-iot",
      authz: true,
      loki: true,
      logShipper: true,
    });
  });

  it("rejects an unknown profile", () => {
    expect(() => getProfile("bogus")).toThrow(/unknown site profile "bogus"/);
  });
});

describe("tracker replicas from edge nodes", () => {
  it("a single site: max(1, round(nodes x R/N))", () => {
    const p = PROFILES["logisticsHub"];
    expect(siteTrackerReplicas(p, 1)).toBe(1);
    expect(siteTrackerReplicas(p, 10)).toBe(2);
    expect(siteTrackerReplicas(p, 2000)).toBe(400);
    expect(() => siteTrackerReplicas(p, 0)).toThrow(/positive integer/);
  });

  it.each(PROFILE_NAMES)("a region made of the whole %s fleet totals the case's replicas", (name) => {
    const p = PROFILES[name];
    // Uneven site sizes summing to the case's fleet.
    const sites: Record<string, number> = {};
    let left = p.fleet.edgeNodes;
    const sizes = [7, 3, 12, 5, 9, 4, 20];
    for (let i = 0; left > 0; i++) {
      const n = Math.min(left, sizes[i % sizes.length] * Math.max(1, Math.floor(p.fleet.edgeNodes / 400)));
      sites[`site-${String(i).padStart(4, "0")}`] = n;
      left -= n;
    }
    if (Object.keys(sites).length > p.fleet.trackerReplicas) {
      expect(() => regionTrackerReplicas(p, sites)).toThrow(/fewer than one per site/);
      return;
    }
    const out = regionTrackerReplicas(p, sites);
    expect(Object.values(out).reduce((a, b) => a + b, 0)).toBe(p.fleet.trackerReplicas);
    expect(Math.min(...Object.values(out))).toBeGreaterThanOrEqual(1);
  });

  it("apportions by largest remainder, bigger sites first", () => {
    // supply chain: 0.2 per node; 200 nodes -> 40 replicas.
    const out = regionTrackerReplicas(PROFILES["supplyChain"], { a: 100, b: 60, c: 40 });
    expect(out).toEqual({ a: 20, b: 12, c: 8 });
  });

  it("explains when sites outnumber the region's replicas", () => {
    const sites = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`c${i}`, 1]));
    expect(() => regionTrackerReplicas(PROFILES["logisticsHub"], sites)).toThrow(
      /2000 sites \/ 2000 edge nodes gets 400 logisticsHub trackers .* fewer than one per site/,
    );
  });
});
