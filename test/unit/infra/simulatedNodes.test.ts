/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Simulated (KWOK) nodes are registered by infra/scripts/kwok/up.sh; what the
 * capacity model and the edge-node rule say about them (config/edgeNodes.ts)
 * must be what that script writes: the same labels, and the size classes'
 * allocatable from config/sizeClasses.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { simulatedNodeLabels, simulatedNodeName, TRACKER_NODE_SELECTOR } from "../../../config/edgeNodes";
import { SIZE_CLASSES, SIZE_CLASS_NAMES, allocatable } from "../../../config/sizeClasses";

const upSh = fs.readFileSync(path.join(__dirname, "../../../infra/scripts/kwok/up.sh"), "utf8");

/** node_doc's Node document with the script's variables filled in as up.sh would. */
function nodeDoc(vars: Record<string, string>): Record<string, any> {
  const m = /node_doc\(\) \{[\s\S]*?cat <<EOF\n([\s\S]*?)\nEOF/.exec(upSh);
  if (!m) throw new Error("up.sh has no node_doc heredoc");
  const text = m[1]
    .replace(/\$\(\[\[[^\n]*\)/g, "  taints: []")
    .replace(/\$\{hash_of\[\$class\]\}/g, "h")
    .replace(/\$(\w+)/g, (_, v: string) => {
      if (!(v in vars)) throw new Error(`up.sh node_doc uses $${v}, which the test does not set`);
      return vars[v];
    });
  return parse(text) as Record<string, any>;
}

describe("simulated nodes: up.sh registers what config/edgeNodes.ts models", () => {
  it.each(SIZE_CLASS_NAMES)("labels and allocatable of a %s node", (sizeClass) => {
    const name = simulatedNodeName("lab-1", 7);
    const [cpu, mem, acpu, amem] = new RegExp(`${sizeClass}\\) echo "([^"]+)"`).exec(upSh)![1].split(" ");
    const doc = nodeDoc({
      name,
      site: "lab-1",
      profile: "edgeGeneral",
      class: sizeClass,
      wasm: "true",
      cpu,
      mem,
      acpu,
      amem,
    });
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
    expect(upSh).toContain(`printf -v REPLY '%s-edge-%04d' "$site" "$1"`);
    expect(simulatedNodeName("s", 12)).toBe("s-edge-0012");
  });
});
