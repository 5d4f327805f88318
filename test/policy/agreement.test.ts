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
import { siteHostPaths } from "../../policies/siteHostPaths";
import { container, tracker, variant } from "./fixtures/manifests";
import { run, tool } from "./tools";

/** A factory site's options: its registry, and the read-only /var/log its log shipper needs. */
const OPTIONS: SiteConstraintOptions = {
  sizeClass: "2c4g",
  extraRegistries: ["registry.example.com"],
  extraHostPaths: siteHostPaths({ profile: "factoryIiot" }),
};

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

/** A log shipper DaemonSet that passes every shared rule, then `f` edits its Pod spec. */
function logShipper(name: string, f: (pod: any) => void = () => {}): any {
  const mount = (mountPath: string) => ({ name: "varlog", mountPath, readOnly: true });
  const pod = {
    containers: [
      {
        name: "fluent-bit",
        image: "docker.io/fluent/fluent-bit:3.2.10",
        resources: { requests: { cpu: "20m", memory: "32Mi" }, limits: { cpu: "100m", memory: "96Mi" } },
        securityContext: { allowPrivilegeEscalation: false },
        volumeMounts: [mount("/var/log")],
      },
    ],
    initContainers: [
      {
        name: "wait-for-logs",
        image: "docker.io/fluent/fluent-bit:3.2.10",
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "10m", memory: "16Mi" } },
        securityContext: { allowPrivilegeEscalation: false },
        volumeMounts: [mount("/logs")],
      },
    ],
    volumes: [{ name: "varlog", hostPath: { path: "/var/log", type: "Directory" } }],
  };
  f(pod);
  const labels = { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "edgefleet" };
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace: "edgefleet-monitoring" },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: pod } },
  };
}

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
  // The site's log shipper: /var/log is allowed read-only only.
  logShipper("log-shipper-read-only"),
  logShipper("log-shipper-writable", (pod) => delete pod.containers[0].volumeMounts[0].readOnly),
  logShipper("log-shipper-init-writable", (pod) => (pod.initContainers[0].volumeMounts[0].readOnly = false)),
  logShipper("log-shipper-unmounted", (pod) => {
    pod.containers[0].volumeMounts = [];
    pod.initContainers[0].volumeMounts = [];
  }),
  logShipper("log-shipper-subdir-writable", (pod) => {
    pod.volumes[0].hostPath.path = "/var/log/pods/";
    delete pod.initContainers[0].volumeMounts[0].readOnly;
  }),
  logShipper("log-shipper-traversal", (pod) => (pod.volumes[0].hostPath.path = "/var/log/../lib/kubelet")),
  logShipper("log-shipper-sibling", (pod) => (pod.volumes[0].hostPath.path = "/var/logs")),
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

/**
 * (manifest, policy) pairs `gator test` refuses. gator exits 1 for violations
 * and also for errors (an object it cannot read, a template that does not
 * compile), with nothing on stdout: only an empty stderr and a JSON report
 * count as a verdict, so an error cannot pass for "no violations".
 */
function gatekeeperVerdicts(manifests: string): string[] {
  const gator = tool("gator");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-agree-"));
  try {
    fs.writeFileSync(path.join(tmp, "policies.yaml"), renderBundle(OPTIONS));
    fs.writeFileSync(path.join(tmp, "manifests.yaml"), manifests);
    const r = run(gator, ["test", "-f", tmp, "-o", "json"]);
    if ((r.status !== 0 && r.status !== 1) || r.stderr !== "") {
      throw new Error(`gator test failed (exit ${r.status}): ${r.stderr}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.stdout);
    } catch {
      throw new Error(`gator test (exit ${r.status}) printed no JSON report: ${JSON.stringify(r.stdout)}`);
    }
    // No violations is `null`; anything else must be the list of results.
    if (parsed !== null && !Array.isArray(parsed)) throw new Error(`gator test printed ${r.stdout}`);
    const results = (parsed ?? []) as any[];
    // Every Constraint here denies, so exit 1 without a result is an error.
    if (r.status === 1 && results.length === 0) throw new Error("gator test exited 1 and reported no violation");
    const dirByKind = Object.fromEntries(GATEKEEPER_POLICIES.map((p) => [p.kind, p.dir]));
    return [
      ...new Set(results.map((res) => key(res.violatingObject.metadata.name, dirByKind[res.constraint.kind]))),
    ].sort();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const yamlOf = (ms: any[]) => ms.map((m) => stringify(m)).join("---\n");

describe("CrossGuard and Gatekeeper agree on the shared rules", () => {
  const cg = crossGuardVerdicts();
  const gk = gatekeeperVerdicts(yamlOf(MANIFESTS));

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
      "log-shipper-read-only",
      "redis",
      "system-agent",
    ]) {
      expect({ ok, refused: refusedNames.has(ok) }).toEqual({ ok, refused: false });
    }
    for (const p of GATEKEEPER_POLICIES) expect(cg.some((k) => k.endsWith(` ${p.dir}`))).toBe(true);
    // Each log shipper variant but the read-only one is refused, and only for its hostPath.
    const shippers = MANIFESTS.map((m) => m.metadata.name).filter((n) => n.startsWith("log-shipper-"));
    expect(cg.filter((k) => k.startsWith("log-shipper-"))).toEqual(
      shippers
        .filter((n) => n !== "log-shipper-read-only")
        .map((n) => key(n, "host-filesystem"))
        .sort(),
    );
    // The factory case as written: `:latest` and no edge nodeSelector.
    expect(cg.filter((k) => k.startsWith("industrial-iot "))).toEqual([
      "industrial-iot disallowed-tags",
      "industrial-iot tracker-runtime",
    ]);
  });
});

describe("a gator error is not taken for compliance", () => {
  test("an object gator cannot read fails the run instead of passing as no violations", () => {
    const broken = `${yamlOf([named("compliant-tracker", tracker())])}---\napiVersion: v1\nkind: Pod\nmetadata: [oops\n`;
    expect(() => gatekeeperVerdicts(broken)).toThrow(/gator test failed \(exit 1\)/);
  });
});
