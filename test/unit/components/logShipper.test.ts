import * as k8s from "@pulumi/kubernetes";
import { parse } from "yaml";
import { localGatekeeperManifest } from "../../../components/gatekeeperManifest";
import { PROFILE_NAMES, PROFILES } from "../../../config/profiles";
import {
  HOST_LOG_DIR,
  LOG_FILE_NAME_REGEX,
  LOG_SHIPPER_IMAGE,
  LOG_SHIPPER_METRICS_PATH,
  LOG_SHIPPER_PORT,
  logShipperPeer,
  renderLogShipper,
  renderLogShipperConfig,
} from "../../../components/render/logShipper";
import { grafanaPeer, renderGrafana } from "../../../components/render/grafana";
import { LOKI_PORT, lokiUrl, renderLoki } from "../../../components/render/loki";
import { NODE_AGENT_PRIORITY_CLASS } from "../../../components/render/priorityClass";
import { renderPrometheus, renderPrometheusConfig } from "../../../components/render/prometheus";
import { PLATFORM_SIZES, resolveSite } from "../../../components/render/site";
import { GATEKEEPER_POLICIES } from "../../../policies/gatekeeper/catalog";
import { workloadOf } from "../../../policies/crossguard/lib/workload";
import { sharedViolations } from "../../../policies/crossguard/rules/pod";
import { byType, installMocks, one, outputValue, Registered, settle } from "./helpers";

const registered: Registered[] = installMocks();
// Sites render the 6000-line Gatekeeper manifest.
jest.setTimeout(60_000);

// Imported after the mocks are installed.
import { LogShipper } from "../../../components/logShipper";
import { Site } from "../../../components/site";

/* eslint-disable @typescript-eslint/no-explicit-any */
const SIZE = PLATFORM_SIZES["2c4g"].logShipper;
const args = {
  site: "factory-017",
  namespace: "edgefleet-monitoring",
  monitoringNamespace: "edgefleet-monitoring",
  lokiNamespace: "edgefleet-monitoring",
  ...SIZE,
};
const m = renderLogShipper(args);
const pod = m.daemonSet.spec!.template.spec!;
const container = pod.containers[0];
const config = parse(renderLogShipperConfig(args));

/** True when every key/value of `selector` is among `labels`: the selector picks that pod. */
function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

describe("log shipper manifests", () => {
  it("is a DaemonSet of the pinned official Fluent Bit image on every node, taints included", () => {
    expect(m.daemonSet.kind).toBe("DaemonSet");
    expect(container.image).toBe(LOG_SHIPPER_IMAGE);
    expect(LOG_SHIPPER_IMAGE).toMatch(/^fluent\/fluent-bit:\d+\.\d+\.\d+$/);
    expect(container.imagePullPolicy).toBe("IfNotPresent");
    // Unlike trackers (node-type=edge only), it follows every pod, whatever taints the inventory set.
    expect(pod.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
    expect(pod.tolerations).toEqual([{ operator: "Exists" }]);
    expect(m.daemonSet.spec!.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } });
  });

  it("mounts the host's /var/log read-only and no other host path", () => {
    const hostPaths = pod.volumes!.filter((v) => v.hostPath);
    expect(hostPaths).toEqual([{ name: "varlog", hostPath: { path: "/var/log", type: "Directory" } }]);
    expect(container.volumeMounts).toContainEqual({ name: "varlog", mountPath: HOST_LOG_DIR, readOnly: true });
    // Everything it writes (the tail's offsets) goes to an emptyDir.
    const writable = container.volumeMounts!.filter((v) => !v.readOnly).map((v) => v.name);
    expect(writable).toEqual(["state"]);
    expect(pod.volumes!.find((v) => v.name === "state")!.emptyDir).toEqual({ sizeLimit: "64Mi" });
  });

  it("runs as root without capabilities, escalation or a writable root filesystem", () => {
    expect(container.securityContext).toEqual({
      runAsNonRoot: false,
      runAsUser: 0,
      runAsGroup: 0,
      privileged: false,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.securityContext?.seccompProfile).toEqual({ type: "RuntimeDefault" });
    expect(pod.hostNetwork).toBeUndefined();
    expect(pod.hostPID).toBeUndefined();
  });

  it("has no API credentials: its own ServiceAccount, no token mounted", () => {
    expect(pod.serviceAccountName).toBe("fluent-bit");
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(m.serviceAccount).toMatchObject({ metadata: { name: "fluent-bit" }, automountServiceAccountToken: false });
    // No kubernetes filter, which is what would need a token.
    expect(config.pipeline.filters.map((f: { name: string }) => f.name)).toEqual(["parser"]);
  });

  it("requests and limits the 2C4G sizing, within the policies' ratios", () => {
    expect(container.resources).toEqual({
      requests: { cpu: "20m", memory: "32Mi" },
      limits: { cpu: "100m", memory: "96Mi" },
    });
    // The tail's buffer (MB = 10^6 bytes) stays well inside the memory limit.
    expect((SIZE.memBufLimitMB * 1e6) / 2 ** 20).toBeLessThan(SIZE.resources.limits.memoryMiB / 4);
    expect(config.pipeline.inputs[0].mem_buf_limit).toBe(`${SIZE.memBufLimitMB}MB`);
  });

  it("probes and exposes the HTTP server the config turns on", () => {
    expect(config.service).toMatchObject({ http_server: "on", http_listen: "0.0.0.0", http_port: LOG_SHIPPER_PORT });
    expect(config.service.health_check).toBe("on");
    expect(container.ports).toEqual([{ name: "http", containerPort: LOG_SHIPPER_PORT, protocol: "TCP" }]);
    expect(container.readinessProbe!.httpGet).toEqual({ path: "/api/v1/health", port: "http" });
    expect(container.livenessProbe!.httpGet).toEqual({ path: "/", port: "http" });
    expect(container.args).toEqual(["-c", "/fluent-bit/etc/edgefleet/fluent-bit.yaml"]);
    expect(container.volumeMounts).toContainEqual({
      name: "config",
      mountPath: "/fluent-bit/etc/edgefleet",
      readOnly: true,
    });
    expect(Object.keys(m.configMap.data!)).toEqual(["fluent-bit.yaml"]);
    // A config change rolls the pods.
    expect(m.daemonSet.spec!.template.metadata!.annotations!["edgefleet.dev/config-hash"]).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("node-agent PriorityClass", () => {
  const pc = m.priorityClass;

  it("is cluster-scoped, outranks trackers (no class, 0) and stays below the system classes", () => {
    expect(pc).toMatchObject({ apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass" });
    expect(pc.metadata!.name).toBe(NODE_AGENT_PRIORITY_CLASS);
    expect(pc.metadata!.namespace).toBeUndefined();
    expect(pc.metadata!.labels).toMatchObject({
      "app.kubernetes.io/part-of": "edgefleet",
      "edgefleet.dev/site": args.site,
    });
    expect(pc.value).toBeGreaterThan(0);
    // system-cluster-critical is 2000000000, system-node-critical 2000001000; user classes stop at 10^9.
    expect(pc.value).toBeLessThanOrEqual(1_000_000_000);
    expect(pc.preemptionPolicy).toBe("PreemptLowerPriority");
    // A global default would lift every classless pod (trackers) to the agents' level.
    expect(pc.globalDefault).toBe(false);
    expect(pc.description).toMatch(/log shipper/);
  });

  it("is the shipper pod's class", () => {
    expect(pod.priorityClassName).toBe(pc.metadata!.name);
  });
});

describe("log shipper config (Fluent Bit YAML)", () => {
  it("tails the CRI container logs with the cri multiline parser, offsets in the emptyDir", () => {
    expect(Object.keys(config).sort()).toEqual(["parsers", "pipeline", "service"]);
    expect(config.pipeline.inputs).toHaveLength(1);
    const tail = config.pipeline.inputs[0];
    expect(tail).toMatchObject({
      name: "tail",
      path: "/var/log/containers/*.log",
      "multiline.parser": "cri",
      path_key: "filename",
      tag: "kube.*",
    });
    const state = container.volumeMounts!.find((v) => v.name === "state")!.mountPath;
    expect(tail.db.startsWith(`${state}/`)).toBe(true);
    expect(tail.read_from_head).toBeUndefined();
  });

  it("takes namespace, pod and container from the CRI file name", () => {
    const parser = config.parsers.find((p: { name: string }) => p.name === config.pipeline.filters[0].parser);
    expect(parser).toMatchObject({ format: "regex", regex: LOG_FILE_NAME_REGEX });
    expect(config.pipeline.filters[0]).toMatchObject({ match: "kube.*", key_name: "filename", reserve_data: "on" });
    const re = new RegExp(LOG_FILE_NAME_REGEX);
    const id = "0123456789abcdef".repeat(4);
    expect(re.exec(`/var/log/containers/tracker-7d9f8-x2kq_edgefleet_tracker-${id}.log`)!.groups).toEqual({
      pod: "tracker-7d9f8-x2kq",
      namespace: "edgefleet",
      container: "tracker",
      container_id: id,
    });
    expect(
      re.exec(`/var/log/containers/gatekeeper-audit-1_gatekeeper-system_manager-sidecar-${id}.log`)!.groups,
    ).toMatchObject({ namespace: "gatekeeper-system", container: "manager-sidecar" });
    expect(re.test("/var/log/containers/not-a-container-log.log")).toBe(false);
  });

  it("pushes to the site's Loki Service, labelled by site, node and container, the raw line as the message", () => {
    const out = config.pipeline.outputs;
    expect(out).toHaveLength(1);
    const loki = renderLoki({ site: "x", namespace: "edgefleet-monitoring", ...PLATFORM_SIZES["2c4g"].loki });
    expect(out[0]).toMatchObject({
      name: "loki",
      match: "kube.*",
      host: `${loki.service.metadata!.name}.edgefleet-monitoring.svc`,
      port: loki.service.spec!.ports![0].port,
      drop_single_key: "raw",
      retry_limit: "no_limits",
    });
    expect(out[0].port).toBe(LOKI_PORT);
    const labels = Object.fromEntries(
      (out[0].labels as string).split(",").map((kv) => kv.trim().split("=") as [string, string]),
    );
    expect(labels).toEqual({
      job: "fluent-bit",
      site: "factory-017",
      node: "${NODE_NAME}",
      namespace: "$namespace",
      pod: "$pod",
      container: "$container",
      stream: "$stream",
    });
    expect(container.env).toContainEqual({
      name: "NODE_NAME",
      valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } },
    });
    // Everything but the message leaves the record (labels or not worth storing).
    const removed = (out[0].remove_keys as string).split(",").map((k) => k.trim());
    expect(removed).toEqual(expect.arrayContaining(["filename", "namespace", "pod", "container", "stream"]));
    expect(removed).not.toContain("log");
  });
});

describe("log shipper network policies", () => {
  const lokiPod = renderLoki({
    site: "x",
    namespace: "edgefleet-monitoring",
    ...PLATFORM_SIZES["2c4g"].loki,
    pushFrom: [logShipperPeer("edgefleet-monitoring")],
  });
  const np = m.networkPolicy.spec!;
  const shipperLabels = m.daemonSet.spec!.template.metadata!.labels!;

  it("lets the shipper reach Loki on its port and DNS, and nothing else", () => {
    expect(np.podSelector.matchLabels).toEqual(m.daemonSet.spec!.selector.matchLabels);
    expect(np.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(np.egress).toHaveLength(2);
    const [toLoki, toDns] = np.egress!;
    expect(toLoki.ports).toEqual([{ protocol: "TCP", port: LOKI_PORT }]);
    expect(toLoki.to![0].namespaceSelector!.matchLabels).toEqual({
      "kubernetes.io/metadata.name": "edgefleet-monitoring",
    });
    expect(selects(toLoki.to![0].podSelector!.matchLabels, lokiPod.statefulSet.spec!.template.metadata!.labels)).toBe(
      true,
    );
    expect(toDns.to![0].podSelector!.matchLabels).toEqual({ "k8s-app": "kube-dns" });
    expect(toDns.ports!.map((p) => `${p.protocol}/${p.port}`)).toEqual(["UDP/53", "TCP/53"]);
  });

  it("admits only Prometheus, on the metrics port", () => {
    const prom = renderPrometheus(
      {
        site: "x",
        profile: "factoryIiot",
        namespace: "edgefleet-monitoring",
        targets: { appNamespace: "edgefleet", redis: false, rabbitmq: false },
        resources: PLATFORM_SIZES["2c4g"].prometheus.resources,
        storageGi: 2,
        retentionTime: "7d",
      },
      "groups: []\n",
    );
    expect(np.ingress).toHaveLength(1);
    expect(np.ingress![0].ports).toEqual([{ protocol: "TCP", port: LOG_SHIPPER_PORT }]);
    expect(
      selects(np.ingress![0].from![0].podSelector!.matchLabels, prom.statefulSet.spec!.template.metadata!.labels),
    ).toBe(true);
  });

  it("Loki's policy also admits Grafana's pods on 3100, and nobody else", () => {
    const graf = renderGrafana({
      site: "x",
      namespace: "edgefleet-monitoring",
      prometheusUrl: "http://prometheus:9090",
      lokiUrl: lokiUrl("edgefleet-monitoring"),
      p99SloMs: 50,
      resources: PLATFORM_SIZES["2c4g"].grafana,
    });
    const grafanaLabels = graf.deployment.spec!.template.metadata!.labels!;
    const both = renderLoki({
      site: "x",
      namespace: "edgefleet-monitoring",
      ...PLATFORM_SIZES["2c4g"].loki,
      pushFrom: [logShipperPeer("edgefleet-monitoring")],
      queryFrom: [grafanaPeer("edgefleet-monitoring")],
    }).networkPolicy.spec!;
    expect(both.ingress).toHaveLength(1);
    expect(both.ingress![0].ports).toEqual([{ protocol: "TCP", port: LOKI_PORT }]);
    const peers = both.ingress![0].from!;
    expect(peers).toHaveLength(2);
    for (const p of peers)
      expect(p.namespaceSelector!.matchLabels).toEqual({ "kubernetes.io/metadata.name": "edgefleet-monitoring" });
    expect(peers.map((p) => selects(p.podSelector!.matchLabels, grafanaLabels))).toEqual([false, true]);
    expect(peers.map((p) => selects(p.podSelector!.matchLabels, shipperLabels))).toEqual([true, false]);
    // Neither peer picks any other pod of the monitoring namespace.
    expect(
      peers.some((p) => selects(p.podSelector!.matchLabels, lokiPod.statefulSet.spec!.template.metadata!.labels)),
    ).toBe(false);
    // Grafana alone (a site with Loki but nothing shipping) still gets in.
    const queryOnly = renderLoki({
      site: "x",
      namespace: "m",
      ...PLATFORM_SIZES["2c4g"].loki,
      queryFrom: [grafanaPeer("m")],
    }).networkPolicy.spec!;
    expect(queryOnly.ingress).toEqual([{ from: [grafanaPeer("m")], ports: [{ protocol: "TCP", port: LOKI_PORT }] }]);
  });

  it("Loki's own policy admits the shipper on 3100, and no one when nothing ships", () => {
    const lnp = lokiPod.networkPolicy.spec!;
    expect(lnp.policyTypes).toEqual(["Ingress"]);
    expect(lnp.ingress).toHaveLength(1);
    expect(lnp.ingress![0].ports).toEqual([{ protocol: "TCP", port: LOKI_PORT }]);
    const peer = lnp.ingress![0].from![0];
    expect(selects(peer.podSelector!.matchLabels, shipperLabels)).toBe(true);
    expect(peer.namespaceSelector!.matchLabels).toEqual({ "kubernetes.io/metadata.name": "edgefleet-monitoring" });
    const alone = renderLoki({ site: "x", namespace: "m", ...PLATFORM_SIZES["2c4g"].loki });
    expect(alone.networkPolicy.spec!.ingress).toEqual([]);
  });
});

describe("log shipper and the site's policies", () => {
  const w = workloadOf("kubernetes:apps/v1:DaemonSet", m.daemonSet as Record<string, any>)!;
  const violations = (extraHostPaths: string[]) =>
    GATEKEEPER_POLICIES.flatMap((p) =>
      sharedViolations(p, w, { sizeClass: "2c4g", extraHostPaths }).map((v) => `${p.dir}: ${v}`),
    );

  it("passes every shared rule once /var/log is on the hostPath allow-list", () => {
    expect(violations([HOST_LOG_DIR])).toEqual([]);
  });

  it("is refused by the default allow-list, for its /var/log mount alone", () => {
    // THRESHOLDS.allowedHostPaths holds only the factory SQLite directory, and the
    // site's Constraints get no extraHostPaths (config/siteLayer.ts).
    expect(violations([])).toEqual([
      expect.stringMatching(/^host-filesystem: volume "varlog" mounts hostPath "\/var\/log"/),
    ]);
  });
});

describe("Prometheus scrapes the shipper", () => {
  it("by pod in its namespace, on the port named http, at Fluent Bit's Prometheus path", () => {
    const c = parse(
      renderPrometheusConfig({
        site: "s",
        profile: "factoryIiot",
        targets: { appNamespace: "edgefleet", redis: false, rabbitmq: false, logShipperNamespace: "mon" },
      }),
    );
    const job = c.scrape_configs.find((j: { job_name: string }) => j.job_name === "fluent-bit");
    expect(job.metrics_path).toBe(LOG_SHIPPER_METRICS_PATH);
    expect(job.kubernetes_sd_configs).toEqual([{ role: "pod", namespaces: { names: ["mon"] } }]);
    expect(job.relabel_configs[0].regex).toBe(m.daemonSet.spec!.template.metadata!.labels!["app.kubernetes.io/name"]);
    expect(job.relabel_configs[1].regex).toBe(container.ports![0].name);
    const none = renderPrometheusConfig({
      site: "s",
      profile: "edgeGeneral",
      targets: { appNamespace: "edgefleet", redis: true, rabbitmq: true },
    });
    expect(none).not.toContain("fluent-bit");
  });
});

describe("profiles and overrides", () => {
  const resolve = (profile: (typeof PROFILE_NAMES)[number], overrides = {}) =>
    resolveSite({ site: "s", profile: PROFILES[profile], edgeNodes: 3, overrides });

  it.each(PROFILE_NAMES)("%s ships logs exactly when its profile says so, and only into its Loki", (name) => {
    const s = resolve(name);
    expect(!!s.logShipper).toBe(PROFILES[name].extras.logShipper);
    if (s.logShipper) expect(s.loki).toBeDefined();
  });

  it("only the factory profile ships logs", () => {
    expect(PROFILE_NAMES.filter((n) => PROFILES[n].extras.logShipper)).toEqual(["factoryIiot"]);
  });

  it("a site can drop the shipper, or add it where it also runs Loki, never without Loki", () => {
    expect(resolve("factoryIiot", { logShipper: false }).logShipper).toBeUndefined();
    expect(resolve("factoryIiot", { loki: false }).logShipper).toBeUndefined();
    expect(resolve("edgeGeneral", { loki: true, logShipper: true }).logShipper).toEqual(
      PLATFORM_SIZES["4c8g"].logShipper,
    );
    expect(() => resolve("edgeGeneral", { logShipper: true })).toThrow(/logShipper needs Loki/);
  });

  it("counts one shipper pod per edge node in the site's capacity", () => {
    const one = resolve("factoryIiot");
    const without = resolve("factoryIiot", { logShipper: false });
    const pod = PLATFORM_SIZES["2c4g"].logShipper.resources.requests;
    expect(one.capacity.requested.cpuMillis - without.capacity.requested.cpuMillis).toBe(3 * pod.cpuMillis);
    expect(one.capacity.requested.memoryMiB - without.capacity.requested.memoryMiB).toBe(3 * pod.memoryMiB);
  });
});

describe("LogShipper and Site on Pulumi mocks", () => {
  const provider = new k8s.Provider("site-cluster", { kubeconfig: "{}" });

  it("LogShipper creates ServiceAccount, ConfigMap, DaemonSet, NetworkPolicy and PriorityClass, and no RBAC", async () => {
    const start = registered.length;
    const ls = new LogShipper("ls", { provider, ...args });
    await settle(registered);
    const rs = registered.slice(start);
    expect(
      rs
        .filter((r) => r.type.startsWith("kubernetes:"))
        .map((r) => r.type)
        .sort(),
    ).toEqual([
      "kubernetes:apps/v1:DaemonSet",
      "kubernetes:core/v1:ConfigMap",
      "kubernetes:core/v1:ServiceAccount",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "kubernetes:scheduling.k8s.io/v1:PriorityClass",
    ]);
    expect(one(rs, "kubernetes:apps/v1:DaemonSet").inputs).toEqual(m.daemonSet);
    expect(one(rs, "kubernetes:scheduling.k8s.io/v1:PriorityClass").inputs).toEqual(m.priorityClass);
    expect(await outputValue(ls.daemonSetName)).toBe("fluent-bit");
  });

  // Every profile's component list is in components.test.ts; here one that ships and one that does not.
  it.each(["factoryIiot", "edgeGeneral"] as const)(
    "%s: a shipper into the site's Loki only where the profile ships logs",
    async (name) => {
      const start = registered.length;
      const site = new Site(`site-${name}`, {
        provider,
        site: `site-${name}`,
        profile: name,
        edgeNodes: 2,
        trackerImage: { registry: "registry.example.com", repository: "edgefleet/tracker", tag: "1.0.0" },
        gatekeeper: { manifestPath: localGatekeeperManifest(), templates: [], constraints: [] },
        authzPolicyRego: "package x\n",
      });
      await settle(registered);
      const rs = registered.slice(start);
      const ds = byType(rs, "kubernetes:apps/v1:DaemonSet");
      const shipper = byType(rs, "edgefleet:components:LogShipper");
      const pcs = byType(rs, "kubernetes:scheduling.k8s.io/v1:PriorityClass");
      const datasources = parse(
        rs.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs.metadata.name === "grafana-provisioning")!
          .inputs.data["datasources.yaml"],
      ).datasources as { type: string; url: string }[];
      if (!PROFILES[name].extras.logShipper) {
        expect([ds, shipper, pcs]).toEqual([[], [], []]);
        expect(site.resolved.logShipper).toBeUndefined();
        // No Loki here, so Grafana has no Loki datasource to fail on.
        expect(datasources.map((d) => d.type)).toEqual(["prometheus"]);
        return;
      }
      expect(shipper).toHaveLength(1);
      const d = one(rs, "kubernetes:apps/v1:DaemonSet").inputs;
      expect(d.metadata.namespace).toBe(site.resolved.monitoringNamespace);
      // The one PriorityClass the site creates, and the one its shipper names.
      expect(pcs).toHaveLength(1);
      expect(d.spec.template.spec.priorityClassName).toBe(pcs[0].inputs.metadata.name);
      const cfg = parse(
        rs.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs.metadata.name === "fluent-bit-config")!
          .inputs.data["fluent-bit.yaml"],
      );
      // The same host:port the Loki component reports as its URL.
      const lokiSvc = rs.find((r) => r.type === "kubernetes:core/v1:Service" && r.inputs.metadata.name === "loki")!;
      expect(`http://${cfg.pipeline.outputs[0].host}:${cfg.pipeline.outputs[0].port}`).toBe(
        `http://${lokiSvc.inputs.metadata.name}.${lokiSvc.inputs.metadata.namespace}.svc:${lokiSvc.inputs.spec.ports[0].port}`,
      );
      const lokiNp = rs.find(
        (r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && r.inputs.metadata.name === "loki",
      )!.inputs;
      expect(selects(lokiNp.spec.ingress[0].from[0].podSelector.matchLabels, d.spec.template.metadata.labels)).toBe(
        true,
      );
      // Grafana's Loki datasource points at the Loki Service, and Loki's policy lets Grafana's pods in there.
      const grafana = rs.find(
        (r) => r.type === "kubernetes:apps/v1:Deployment" && r.inputs.metadata.name === "grafana",
      )!.inputs;
      const lokiDs = datasources.find((x) => x.type === "loki")!;
      expect(lokiDs.url).toBe(
        `http://${lokiSvc.inputs.metadata.name}.${lokiSvc.inputs.metadata.namespace}.svc:${lokiSvc.inputs.spec.ports[0].port}`,
      );
      const grafanaIn = lokiNp.spec.ingress.filter((rule: any) =>
        rule.from.some(
          (p: any) =>
            selects(p.podSelector.matchLabels, grafana.spec.template.metadata.labels) &&
            p.namespaceSelector.matchLabels["kubernetes.io/metadata.name"] === grafana.metadata.namespace,
        ),
      );
      expect(grafanaIn.map((rule: any) => rule.ports)).toEqual([[{ protocol: "TCP", port: LOKI_PORT }]]);
      const prom = rs.find(
        (r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs.metadata.name === "prometheus-config",
      )!;
      expect(prom.inputs.data["prometheus.yml"]).toContain("job_name: fluent-bit");
      // Besides upstream Gatekeeper's own, the only RBAC the site creates is Prometheus's; nothing binds the shipper's account.
      const bindings = rs.filter(
        (r) =>
          /rbac.authorization.k8s.io\/v1:(Cluster)?RoleBinding$/.test(r.type) &&
          !r.name.includes("-gatekeeper-install:"),
      );
      expect(bindings.flatMap((b) => b.inputs.subjects.map((s: { name: string }) => s.name))).toEqual(["prometheus"]);
    },
  );
});
