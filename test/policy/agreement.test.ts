/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * One source of truth, shown: the same manifests, some compliant and some
 * not, go through the CrossGuard rules (as `pulumi preview` runs them) and
 * through the real Gatekeeper Rego (`gator test` with every template, every
 * Constraint rendered from thresholds.ts, and the ExpansionTemplates), and the
 * two must refuse exactly the same (manifest, policy) pairs.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { GATEKEEPER_POLICIES, SiteConstraintOptions } from "../../policies/gatekeeper/catalog";
import { renderBundle } from "../../policies/gatekeeper/files";
import { pulumiTypeOf, workloadOf } from "../../policies/crossguard/lib/workload";
import { sharedViolations } from "../../policies/crossguard/rules/pod";
import { container, tracker, variant } from "./fixtures/manifests";
import { run, tool } from "./tools";

const OPTIONS: SiteConstraintOptions = { sizeClass: "2c4g", extraRegistries: ["registry.example.com"] };

/** The cases' Deployments as the seeds write them (numbers and images verbatim). */
function seedDeployment(
  name: string,
  replicas: number,
  req: [string, string],
  lim: [string, string],
  nodeSelector: boolean,
): any {
  return variant(tracker({ replicas }), (m) => {
    m.metadata.name = name;
    if (!nodeSelector) delete m.spec.template.spec.nodeSelector;
    delete m.spec.template.spec.volumes;
    const c = container(m);
    delete c.volumeMounts;
    c.image = `registry.example.com/${name}:latest`;
    c.resources = { requests: { cpu: req[0], memory: req[1] }, limits: { cpu: lim[0], memory: lim[1] } };
  });
}

function named(name: string, m: any): any {
  return variant(m, (x) => (x.metadata.name = name));
}

const edit = (name: string, f: (m: any) => void) => named(name, variant(tracker(), f));

const MANIFESTS: any[] = [
  named("compliant-tracker", tracker()),
  edit(
    "ratio-at-the-bound",
    (m) =>
      (container(m).resources = { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } }),
  ),
  edit("ratio-over", (m) => (container(m).resources.limits.cpu = "251m")),
  edit(
    "limits-at-node-size",
    (m) =>
      (container(m).resources = {
        requests: { cpu: "1650m", memory: "3128Mi" },
        limits: { cpu: "1650m", memory: "3128Mi" },
      }),
  ),
  edit(
    "limits-over-node-size",
    (m) =>
      (container(m).resources = { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1651m", memory: "3129Mi" } }),
  ),
  edit("no-limits", (m) => delete container(m).resources.limits),
  edit("bad-quantity", (m) => (container(m).resources.requests.cpu = "fast")),
  edit("no-runtime-class", (m) => delete m.spec.template.spec.runtimeClassName),
  edit("tracker-on-server", (m) => (m.spec.template.spec.nodeSelector = { "node-type": "server" })),
  edit("latest", (m) => (container(m).image = "registry.example.com/industrial-iot:latest")),
  edit("untagged-port", (m) => (container(m).image = "localhost:5000/industrial-iot")),
  edit("digest-pinned", (m) => (container(m).image = `registry.example.com/industrial-iot@sha256:${"0".repeat(64)}`)),
  edit("lookalike-registry", (m) => (container(m).image = "registry.example.com.evil.io/industrial-iot:1.0.0")),
  edit("docker-hub-official", (m) => (container(m).image = "redis:7.2")),
  edit("hostpath-sibling", (m) => (m.spec.template.spec.volumes[0].hostPath.path = "/var/lib/industrial-iot-old")),
  edit(
    "hostpath-traversal",
    (m) => (m.spec.template.spec.volumes[0].hostPath.path = "/var/lib/industrial-iot/../../../etc"),
  ),
  edit("hostpath-subdir", (m) => (m.spec.template.spec.volumes[0].hostPath.path = "/var/lib/industrial-iot/db/")),
  edit("privileged", (m) => (container(m).securityContext.privileged = true)),
  edit("escalation-unset", (m) => delete container(m).securityContext),
  edit("unlabelled", (m) => (m.spec.template.metadata.labels = { "app.kubernetes.io/component": "tracker" })),
  edit("init-container-too-big", (m) => {
    m.spec.template.spec.initContainers = [
      {
        ...container(m),
        name: "migrate",
        resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "1Gi" } },
      },
    ];
  }),
  // Other workload kinds reach the same Pod rules through expansion.
  {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "redis", namespace: "edgefleet" },
    spec: {
      serviceName: "redis",
      selector: { matchLabels: { app: "redis" } },
      template: {
        metadata: { labels: { "app.kubernetes.io/name": "redis", "app.kubernetes.io/part-of": "edgefleet" } },
        spec: {
          containers: [
            {
              name: "redis",
              image: "redis:7.2",
              resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
              securityContext: { allowPrivilegeEscalation: false },
            },
          ],
        },
      },
    },
  },
  {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "compact", namespace: "edgefleet" },
    spec: {
      schedule: "0 3 * * *",
      jobTemplate: {
        spec: {
          template: {
            metadata: { labels: { "app.kubernetes.io/name": "compact" } },
            spec: { restartPolicy: "OnFailure", containers: [{ name: "compact", image: "busybox" }] },
          },
        },
      },
    },
  },
  {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "debug", namespace: "edgefleet", labels: { "app.kubernetes.io/component": "tracker" } },
    spec: {
      containers: [{ name: "sh", image: "ghcr.io/edgefleet/debug:1", securityContext: { privileged: true } }],
      volumes: [{ name: "root", hostPath: { path: "/" } }],
    },
  },
  {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "system-agent", namespace: "kube-system" },
    spec: {
      selector: { matchLabels: { a: "b" } },
      template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "a", image: "busybox" }] } },
    },
  },
  // The five reference cases' Deployments, as written.
  seedDeployment("logistics-tracker", 400, ["200m", "256Mi"], ["1000m", "1Gi"], true),
  seedDeployment("logistics-system", 100, ["50m", "128Mi"], ["200m", "256Mi"], false),
  seedDeployment("supply-chain-tracker", 40, ["100m", "128Mi"], ["500m", "512Mi"], true),
  seedDeployment("edge-service", 100, ["100m", "128Mi"], ["500m", "512Mi"], true),
  seedDeployment("industrial-iot", 10, ["50m", "64Mi"], ["200m", "128Mi"], false),
];

const key = (name: string, dir: string) => `${name} ${dir}`;

function crossGuardVerdicts(): string[] {
  const out: string[] = [];
  for (const m of MANIFESTS) {
    const w = workloadOf(pulumiTypeOf(m), m)!;
    for (const p of GATEKEEPER_POLICIES)
      if (sharedViolations(p, w, OPTIONS).length > 0) out.push(key(m.metadata.name, p.dir));
  }
  return out.sort();
}

function gatekeeperVerdicts(): string[] {
  const gator = tool("gator");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-agree-"));
  try {
    fs.writeFileSync(path.join(tmp, "policies.yaml"), renderBundle(OPTIONS));
    fs.writeFileSync(path.join(tmp, "manifests.yaml"), MANIFESTS.map((m) => stringify(m)).join("---\n"));
    const r = run(gator, ["test", "-f", tmp, "-o", "json"]);
    // gator exits 1 when a deny Constraint is violated, >1 on errors.
    if (r.status !== 0 && r.status !== 1) throw new Error(`gator test failed (${r.status}): ${r.stderr}`);
    const results = JSON.parse(r.stdout || "[]") as any[];
    const dirByKind = Object.fromEntries(GATEKEEPER_POLICIES.map((p) => [p.kind, p.dir]));
    return [
      ...new Set(results.map((res) => key(res.violatingObject.metadata.name, dirByKind[res.constraint.kind]))),
    ].sort();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

describe("CrossGuard and Gatekeeper agree on the shared rules", () => {
  const cg = crossGuardVerdicts();
  const gk = gatekeeperVerdicts();

  test("both refuse exactly the same (manifest, policy) pairs", () => {
    expect(gk).toEqual(cg);
  });

  test("the set is not trivial: compliant manifests pass, and every shared policy refuses something", () => {
    const refusedNames = new Set(cg.map((k) => k.split(" ")[0]));
    for (const ok of [
      "compliant-tracker",
      "ratio-at-the-bound",
      "limits-at-node-size",
      "digest-pinned",
      "docker-hub-official",
      "hostpath-subdir",
      "redis",
      "system-agent",
    ]) {
      expect({ ok, refused: refusedNames.has(ok) }).toEqual({ ok, refused: false });
    }
    for (const p of GATEKEEPER_POLICIES) expect(cg.some((k) => k.endsWith(` ${p.dir}`))).toBe(true);
    // The factory case as written: `:latest` and no edge nodeSelector.
    expect(cg.filter((k) => k.startsWith("industrial-iot "))).toEqual([
      "industrial-iot disallowed-tags",
      "industrial-iot tracker-runtime",
    ]);
  });
});
