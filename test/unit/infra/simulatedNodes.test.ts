/**
 * Simulated (KWOK) nodes are registered by infra/scripts/kwok/up.sh; what the
 * capacity model and the edge-node rule say about them (config/edgeNodes.ts)
 * must be what that script writes: the same labels, and the size classes'
 * allocatable from config/sizeClasses.ts.
 */
import { simulatedNodeLabels, simulatedNodeName, TRACKER_NODE_SELECTOR } from "../../../config/edgeNodes";
import { SIZE_CLASSES, SIZE_CLASS_NAMES, allocatable } from "../../../config/sizeClasses";
import { kwokNodeDoc, UP_SH } from "./kwokNodeDoc";

describe("simulated nodes: up.sh registers what config/edgeNodes.ts models", () => {
  it.each(SIZE_CLASS_NAMES)("labels and allocatable of a %s node", (sizeClass) => {
    const name = simulatedNodeName("lab-1", 7);
    const doc = kwokNodeDoc({ name, site: "lab-1", profile: "edgeGeneral", class: sizeClass });
    expect(doc.metadata.name).toBe("lab-1-edge-0007");
    expect(doc.metadata.labels).toEqual(
      simulatedNodeLabels({ site: "lab-1", profile: "edgeGeneral", sizeClass, name }),
    );
    // Every simulated node runs trackers.
    for (const [k, v] of Object.entries(TRACKER_NODE_SELECTOR)) expect(doc.metadata.labels[k]).toBe(v);
    const a = allocatable(SIZE_CLASSES[sizeClass]);
    expect(doc.status.allocatable).toMatchObject({ cpu: `${a.cpuMillis}m`, memory: `${a.memoryMiB}Mi` });
    expect(doc.status.capacity).toMatchObject({
      cpu: String(SIZE_CLASSES[sizeClass].capacity.cpuMillis / 1000),
      memory: `${SIZE_CLASSES[sizeClass].capacity.memoryMiB}Mi`,
    });
  });

  it("names nodes as up.sh's node_name does", () => {
    expect(UP_SH).toContain(`printf -v REPLY '%s-edge-%04d' "$site" "$1"`);
    expect(simulatedNodeName("s", 12)).toBe("s-edge-0012");
  });
});
