/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Every example stack's trackers schedule. For each site of each
 * stacks/Pulumi.*.yaml, the nodes come from what the host layer hands each
 * host (its rendered config.yaml: node-label, node-taint, the kubelet's
 * reservations against the host's size) or from what up.sh registers for
 * simulated nodes; the pods come from the site layer's render functions (the
 * tracker Deployment, the RuntimeClass whose overhead and nodeSelector
 * admission adds to it, the platform, Gatekeeper's transformed upstream
 * Deployments). A plain placement written here, apart from config/capacity.ts,
 * then puts every platform pod and every tracker replica (the HPA's floor and
 * its ceiling) on a node whose labels match, whose taints are tolerated and
 * whose allocatable has room, one tracker per node in turn as the tracker's
 * topology spread demands; a replica with no such node fails the test.
 */
import * as fs from "fs";
import * as path from "path";
import { parseStackFile, stackNameOf } from "../../../config/stackFile";
import { k3sClusterArgs, simulatedNodesShape } from "../../../config/hostLayer";
import { parseImageRef, pinnedImage } from "../../../config/image";
import { DEFAULT_TRACKER_IMAGE, siteResolveArgs } from "../../../config/siteModel";
import type { SiteSpec, StackSpec } from "../../../config/schema";
import { validateStack } from "../../../config/inventory";
import { localGatekeeperManifest } from "../../../components/gatekeeperManifest";
import { transformGatekeeper } from "../../../components/render/gatekeeper";
import { resolveSite, siteManifests } from "../../../components/render/site";
import { k3sHostConfigs } from "../../../infra/k3sCluster";
import { k3sConfigDocument } from "../../../infra/render/k3sConfig";
import { resolveSize } from "../../../infra/render/size";
import { simulatedNodeName } from "../../../config/edgeNodes";
import { kwokNodeDoc } from "../infra/kwokNodeDoc";

const STACKS = path.join(__dirname, "../../../stacks");
const FILES = fs.readdirSync(STACKS).filter((f) => /^Pulumi\..+\.yaml$/.test(f));
const GATEKEEPER_YAML = fs.readFileSync(localGatekeeperManifest(), "utf8");

interface Node {
  name: string;
  labels: Record<string, string>;
  taints: Array<{ key: string; value?: string; effect: string }>;
  free: { cpu: number; mem: number };
  trackers: number;
}

interface Pod {
  what: string;
  nodeSelector: Record<string, string>;
  tolerations: any[];
  cpu: number;
  mem: number;
}

const cpu = (q: string | number | undefined): number => {
  if (q === undefined) return 0;
  const s = String(q);
  return s.endsWith("m") ? Number(s.slice(0, -1)) : Number(s) * 1000;
};
const mem = (q: string | undefined): number => {
  if (q === undefined) return 0;
  const m = /^(\d+(?:\.\d+)?)(Mi|Gi|Ki)?$/.exec(q);
  if (!m) throw new Error(`memory quantity ${q}`);
  return Number(m[1]) * { Ki: 1 / 1024, Mi: 1, Gi: 1024 }[m[2] ?? "Mi"]!;
};

/** "cpu=250m,memory=512Mi" from a kubelet-arg. */
function reserved(args: string[], flag: string): { cpu: number; mem: number } {
  const a = args.find((x) => x.startsWith(`${flag}=`))!.slice(flag.length + 1);
  const kv = Object.fromEntries(a.split(",").map((p) => p.split("=")));
  return { cpu: cpu(kv.cpu), mem: mem(kv.memory) };
}

/** The nodes of a K3s site as each host's rendered config.yaml makes them. */
function k3sNodes(spec: StackSpec, site: SiteSpec, si: number): Node[] {
  const args = k3sClusterArgs(spec, site, si, "unused", "/");
  return [...k3sHostConfigs(args).values()].flatMap((c) => {
    const doc = k3sConfigDocument(c) as any;
    if (!doc["node-label"]) return []; // no kubelet, no Node
    const capacity = resolveSize(c.size).capacity;
    const kube = reserved(doc["kubelet-arg"], "kube-reserved");
    const system = reserved(doc["kubelet-arg"], "system-reserved");
    const eviction = Number(/memory\.available<(\d+)Mi/.exec(doc["kubelet-arg"].join(" "))![1]);
    return [
      {
        name: c.nodeName,
        // What the kubelet sets itself, then config.yaml's node-label.
        labels: {
          "kubernetes.io/hostname": c.nodeName,
          "kubernetes.io/os": "linux",
          ...Object.fromEntries((doc["node-label"] as string[]).map((l) => l.split("=") as [string, string])),
        },
        taints: ((doc["node-taint"] ?? []) as string[]).map((t) => {
          const m = /^([^=:]+)(?:=([^:]*))?:(\w+)$/.exec(t)!;
          return { key: m[1], value: m[2], effect: m[3] };
        }),
        free: {
          cpu: capacity.cpuMillis - kube.cpu - system.cpu,
          mem: capacity.memoryMiB - kube.mem - system.mem - eviction,
        },
        trackers: 0,
      },
    ];
  });
}

/** The simulated nodes of an upstream site as up.sh registers them. */
function kwokNodes(site: SiteSpec): Node[] {
  const shape = simulatedNodesShape(site);
  return Array.from({ length: shape.count }, (_, i) => {
    const name = simulatedNodeName(site.name, i + 1);
    const doc = kwokNodeDoc({ name, site: site.name, profile: site.profile, class: shape.sizeClass });
    return {
      name,
      labels: doc.metadata.labels,
      taints: doc.spec.taints ?? [],
      free: { cpu: cpu(doc.status.allocatable.cpu), mem: mem(doc.status.allocatable.memory) },
      trackers: 0,
    };
  });
}

const tolerated = (p: Pod, t: Node["taints"][number]) =>
  (t.effect !== "NoSchedule" && t.effect !== "NoExecute") ||
  p.tolerations.some(
    (x) =>
      (!x.effect || x.effect === t.effect) &&
      (x.operator === "Exists" ? !x.key || x.key === t.key : x.key === t.key && (x.value ?? "") === (t.value ?? "")),
  );
const admits = (n: Node, p: Pod) =>
  Object.entries(p.nodeSelector).every(([k, v]) => n.labels[k] === v) && n.taints.every((t) => tolerated(p, t));
const room = (n: Node, p: Pod) => n.free.cpu >= p.cpu && n.free.mem >= p.mem;
const take = (n: Node, p: Pod) => ((n.free.cpu -= p.cpu), (n.free.mem -= p.mem));

function podOf(m: any, runtimeClasses: Map<string, any>): Pod {
  const spec = m.spec.template.spec;
  const rc = spec.runtimeClassName ? runtimeClasses.get(spec.runtimeClassName) : undefined;
  const sum = (f: (c: any) => number) => (spec.containers as any[]).reduce((a, c) => a + f(c), 0);
  return {
    what: `${m.kind} ${m.metadata.name}`,
    nodeSelector: { ...(spec.nodeSelector ?? {}), ...(rc?.scheduling?.nodeSelector ?? {}) },
    tolerations: spec.tolerations ?? [],
    cpu: sum((c) => cpu(c.resources?.requests?.cpu)) + cpu(rc?.overhead?.podFixed?.cpu),
    mem: sum((c) => mem(c.resources?.requests?.memory)) + mem(rc?.overhead?.podFixed?.memory),
  };
}

interface Verdict {
  trackerNodes: string[];
  unplaced: string[];
}

/** Platform first (DaemonSets on every node they admit, the rest on the emptiest node), then `replicas` trackers. */
function place(nodes: Node[], manifests: any[], replicas: number): Verdict {
  const rcs = new Map(manifests.filter((m) => m.kind === "RuntimeClass").map((m) => [m.metadata.name, m]));
  const workloads = manifests.filter((m) => ["Deployment", "StatefulSet", "DaemonSet"].includes(m.kind));
  const tracker = workloads.find((m) => m.kind === "Deployment" && m.metadata.name === "tracker");
  const unplaced: string[] = [];
  for (const m of workloads.filter((w) => w.kind === "DaemonSet")) {
    const p = podOf(m, rcs);
    for (const n of nodes.filter((x) => admits(x, p))) {
      if (room(n, p)) take(n, p);
      else unplaced.push(`${p.what} on ${n.name}`);
    }
  }
  for (const m of workloads.filter((w) => w.kind !== "DaemonSet" && w !== tracker)) {
    const p = podOf(m, rcs);
    for (let i = 0; i < (m.spec.replicas ?? 1); i++) {
      const n = nodes.filter((x) => admits(x, p) && room(x, p)).sort((a, b) => b.free.mem - a.free.mem)[0];
      if (n) take(n, p);
      else unplaced.push(p.what);
    }
  }
  const t = podOf(tracker, rcs);
  const eligible = nodes.filter((n) => admits(n, t));
  for (let i = 0; i < replicas; i++) {
    // maxSkew 1 over hostnames: only a node holding the fewest trackers may take the next.
    const fewest = Math.min(...eligible.map((n) => n.trackers));
    const n = eligible.find((x) => x.trackers === fewest && room(x, t));
    if (!n) {
      unplaced.push(`tracker replica ${i + 1} of ${replicas}`);
      break;
    }
    take(n, t);
    n.trackers++;
  }
  return { trackerNodes: eligible.map((n) => n.name), unplaced };
}

function siteCase(file: string) {
  const parsed = parseStackFile(fs.readFileSync(path.join(STACKS, file), "utf8"));
  // As the program loads it: inventory files named relative to the project folder.
  const read = (f: string) => fs.readFileSync(path.resolve(STACKS, "..", f), "utf8");
  const spec = validateStack(stackNameOf(file), parsed.rawConfig, parsed.secretKeys, read);
  return spec.sites.map((site, si) => ({ spec, site, si }));
}

function renderSite(spec: StackSpec, site: SiteSpec, si: number) {
  const resolved = resolveSite(siteResolveArgs(site, `edgefleet:sites[${si}]`));
  const image = site.overrides.tracker?.image
    ? pinnedImage(parseImageRef(site.overrides.tracker.image))
    : pinnedImage(DEFAULT_TRACKER_IMAGE);
  const gatekeeper = transformGatekeeper(GATEKEEPER_YAML, {
    ...resolved.gatekeeper,
    version: `v${spec.gatekeeper.version}`,
  }).filter((o) => o.kind === "Deployment");
  return { resolved, manifests: [...siteManifests(resolved, image), ...gatekeeper] };
}

const nodesOf = (spec: StackSpec, site: SiteSpec, si: number) =>
  site.distribution === "upstream" ? kwokNodes(site) : k3sNodes(spec, site, si);

const SITES = FILES.flatMap((f) => siteCase(f).map((c) => [stackNameOf(f), c.site.name, c] as const));

describe("every example stack's trackers schedule on the nodes the host layer makes", () => {
  test("the stacks are all here, the lab too", () => {
    expect(new Set(SITES.map(([stack]) => stack))).toEqual(
      new Set(["edge-general", "factory-iiot", "lab", "logistics-hub", "retail-city", "supply-chain"]),
    );
  });

  test.each(SITES)("%s/%s", (_stack, _site, { spec, site, si }) => {
    const { resolved, manifests } = renderSite(spec, site, si);
    const tracker = manifests.find((m) => m.kind === "Deployment" && m.metadata.name === "tracker");
    expect(tracker!.spec.replicas).toBe(resolved.tracker.replicas);
    for (const replicas of [resolved.tracker.replicas, resolved.tracker.hpaMaxReplicas]) {
      const v = place(nodesOf(spec, site, si), manifests, replicas);
      expect({ replicas, ...v, trackerNodes: v.trackerNodes.length > 0 }).toEqual({
        replicas,
        trackerNodes: true,
        unplaced: [],
      });
    }
  });

  test("a server-only site runs its trackers on its server (city-xiamen, one 2C4G box)", () => {
    const [, , { spec, site, si }] = SITES.find(([stack, s]) => stack === "retail-city" && s === "city-xiamen")!;
    const { manifests } = renderSite(spec, site, si);
    const v = place(nodesOf(spec, site, si), manifests, site.overrides.tracker!.replicas!);
    expect(v).toEqual({ trackerNodes: ["xm-s1"], unplaced: [] });
    // The check can fail: without the edge label (the old rule: agents only) no replica has a node.
    const unlabelled = nodesOf(spec, site, si).map((n) => ({
      ...n,
      labels: Object.fromEntries(Object.entries(n.labels).filter(([k]) => k !== "node-type")),
    }));
    expect(place(unlabelled, manifests, 4).unplaced).toEqual(["tracker replica 1 of 4"]);
  });
});
