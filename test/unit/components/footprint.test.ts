import * as fs from "fs";
import * as path from "path";
import { footprintMarkdown, profileFootprint } from "../../../components/footprint";
import { PROFILE_NAMES, PROFILES } from "../../../config/profiles";
import { WASMEDGE_OVERHEAD } from "../../../components/render/runtimeClass";
import { nodeAllocatable } from "../../../components/render/site";
import { gatekeeperYaml } from "./helpers";

describe("platform footprint per profile", () => {
  const yaml = gatekeeperYaml();

  it.each(PROFILE_NAMES)("%s: the platform's requests and limits fit one node next to K3s, trackers on top", (name) => {
    const f = profileFootprint(PROFILES[name], yaml);
    const node = nodeAllocatable(PROFILES[name]);
    const t = f.platform.total;
    expect(t.requests.cpuMillis).toBeLessThanOrEqual(node.cpuMillis);
    expect(t.requests.memoryMiB).toBeLessThanOrEqual(node.memoryMiB);
    expect(t.limits.cpuMillis).toBeLessThanOrEqual(node.cpuMillis);
    expect(t.limits.memoryMiB).toBeLessThanOrEqual(node.memoryMiB);
    // At least one tracker fits beside the platform on a single-node site.
    expect(f.trackersBesidePlatform).toBeGreaterThanOrEqual(1);
    expect(f.site.capacity.ok).toBe(true);
    expect(f.site.tracker.hpaMaxReplicas).toBeLessThanOrEqual(f.site.capacity.maxTrackerReplicas);
    // Every workload counted, Gatekeeper included.
    const names = f.platform.rows.map((r) => r.name);
    expect(names).toEqual(
      expect.arrayContaining(["StatefulSet/prometheus/prometheus", "Deployment/gatekeeper-controller-manager/manager"]),
    );
    if (PROFILES[name].extras.redis) expect(names).toContain("StatefulSet/redis/exporter");
    if (PROFILES[name].extras.loki) expect(names).toContain("StatefulSet/loki/loki");
    // The log shipper runs on every node: once on the platform's, again on each further edge node.
    const daemons = f.platform.rows.filter((r) => r.perNode).map((r) => r.name);
    expect(daemons).toEqual(PROFILES[name].extras.logShipper ? ["DaemonSet/fluent-bit/fluent-bit"] : []);
    const pod = {
      cpuMillis: f.site.tracker.resources.requests.cpuMillis + WASMEDGE_OVERHEAD.cpuMillis,
      memoryMiB: f.site.tracker.resources.requests.memoryMiB + WASMEDGE_OVERHEAD.memoryMiB,
    };
    const extraNodes = f.site.edgeNodes - 1;
    expect(f.site.capacity.requested).toEqual({
      cpuMillis:
        t.requests.cpuMillis +
        extraNodes * f.platform.perNode.requests.cpuMillis +
        f.site.tracker.replicas * pod.cpuMillis,
      memoryMiB:
        t.requests.memoryMiB +
        extraNodes * f.platform.perNode.requests.memoryMiB +
        f.site.tracker.replicas * pod.memoryMiB,
    });
  });

  it("components/FOOTPRINT.md is up to date (bash components/write-footprint.sh)", () => {
    const file = path.join(__dirname, "../../../components/FOOTPRINT.md");
    expect(fs.readFileSync(file, "utf8")).toBe(footprintMarkdown(yaml));
  });
});
