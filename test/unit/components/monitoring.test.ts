import { parse } from "yaml";
import { PROFILE_NAMES, PROFILES } from "../../../config/profiles";
import { dashboardExprs, renderGrafana, renderTrackerDashboard } from "../../../components/render/grafana";
import { lokiUrl } from "../../../components/render/loki";
import {
  availableMetrics,
  renderPrometheus,
  renderPrometheusConfig,
  renderRules,
  scrapedJobs,
} from "../../../components/render/prometheus";

const KEYWORDS = new Set([
  "sum",
  "rate",
  "irate",
  "increase",
  "changes",
  "histogram_quantile",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "offset",
  "bool",
  "vector",
  "absent",
  "avg",
  "max",
  "min",
  "count",
  "le",
  "topk",
  "bottomk",
  "count_over_time",
  "avg_over_time",
  "max_over_time",
  "label_replace",
]);

/** Metric names of a PromQL expression: identifiers outside strings, label matchers, ranges and grouping lists. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const ids = stripped.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set(ids.filter((id) => !KEYWORDS.has(id) && !/^\d/.test(id) && !/^e\d+$/.test(id)))];
}

describe("metricNames (the parser the dashboard check relies on)", () => {
  it("finds metrics and skips functions, labels and ranges", () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="tracker",code=~"5.."}[5m])))',
      ),
    ).toEqual(["http_request_duration_seconds_bucket"]);
    expect(metricNames("job:tracker_http_errors:ratio_rate1h > 0.0144 and up == 0")).toEqual([
      "job:tracker_http_errors:ratio_rate1h",
      "up",
    ]);
  });
});

describe("Prometheus config", () => {
  it("scrapes trackers, the profile's Redis/RabbitMQ, kubelet and cAdvisor", () => {
    const all = renderPrometheusConfig({
      site: "s",
      profile: "edgeGeneral",
      targets: { appNamespace: "edgefleet", redis: true, rabbitmq: true },
    });
    expect(scrapedJobs(all)).toEqual(["tracker", "redis", "rabbitmq", "kubelet", "cadvisor", "prometheus"]);
    const c = parse(all);
    expect(c.global.external_labels).toEqual({ site: "s", profile: "edgeGeneral" });
    const cad = c.scrape_configs.find((j: { job_name: string }) => j.job_name === "cadvisor");
    expect(cad.tls_config.ca_file).toMatch(/ca\.crt$/);
    expect(cad.relabel_configs[1].replacement).toBe("/api/v1/nodes/$1/proxy/metrics/cadvisor");
    const factory = renderPrometheusConfig({
      site: "s",
      profile: "factoryIiot",
      targets: { appNamespace: "e", redis: false, rabbitmq: false },
    });
    expect(scrapedJobs(factory)).not.toContain("redis");
  });

  it("agent mode drops rules and requires a remote-write URL", () => {
    expect(() =>
      renderPrometheusConfig({
        site: "s",
        profile: "p",
        targets: { appNamespace: "e", redis: false, rabbitmq: false },
        agentMode: true,
      }),
    ).toThrow(/remoteWriteUrl/);
    const c = parse(
      renderPrometheusConfig({
        site: "s",
        profile: "p",
        targets: { appNamespace: "e", redis: false, rabbitmq: false },
        agentMode: true,
        remoteWriteUrl: "https://c/api/v1/write",
      }),
    );
    expect(c.rule_files).toBeUndefined();
    expect(c.remote_write[0].url).toBe("https://c/api/v1/write");
  });

  it("sets retention time and size, and agent flags in agent mode", () => {
    const base = {
      site: "s",
      profile: "factoryIiot",
      namespace: "mon",
      targets: { appNamespace: "e", redis: false, rabbitmq: false },
      resources: { requests: { cpuMillis: 100, memoryMiB: 256 }, limits: { cpuMillis: 300, memoryMiB: 512 } },
      storageGi: 2,
      retentionTime: "7d",
    };
    const args = renderPrometheus(base, "groups: []\n").statefulSet.spec!.template.spec!.containers[0].args!;
    expect(args).toEqual(
      expect.arrayContaining(["--storage.tsdb.retention.time=7d", "--storage.tsdb.retention.size=1536MB"]),
    );
    const agent = renderPrometheus(
      { ...base, agentMode: true, remoteWriteUrl: "https://c/w", retentionTime: "48h" },
      "",
    ).statefulSet.spec!.template.spec!.containers[0].args!;
    expect(agent).toEqual(expect.arrayContaining(["--enable-feature=agent", "--storage.agent.retention.max-time=48h"]));
  });
});

describe("SLO rules", () => {
  it.each(PROFILE_NAMES)("%s alerts on its own P99 and on the 99.9%% budget", (name) => {
    const p = PROFILES[name];
    const rules = parse(
      renderRules({
        profile: p,
        redis: !!p.extras.redis,
        rabbitmq: !!p.extras.rabbitmq,
        logShipper: p.extras.logShipper,
      }),
    );
    const all = rules.groups.flatMap((g: { rules: object[] }) => g.rules) as {
      alert?: string;
      record?: string;
      expr: string;
    }[];
    const p99 = all.find((r) => r.alert === "TrackerP99LatencyHigh")!;
    expect(p99.expr).toBe(`job:tracker_http_request_duration_seconds:p99_5m > ${p.slo.p99LatencyMs / 1000}`);
    const fast = all.find((r) => r.alert === "TrackerErrorBudgetBurnFast")!;
    expect(fast.expr).toContain(`> ${14.4 * 0.001}`);
    expect(all.some((r) => r.alert === "RedisDown")).toBe(!!p.extras.redis);
    const shipper = rules.groups.find((g: { name: string }) => g.name === "edgefleet-log-shipper");
    expect(!!shipper).toBe(p.extras.logShipper);
  });

  it("watches the shipper only where the site ships logs", () => {
    const p = PROFILES["factoryIiot"];
    const without = renderRules({ profile: p, redis: false, rabbitmq: false });
    expect(without).not.toContain("fluent");
    const rules = parse(renderRules({ profile: p, redis: false, rabbitmq: false, logShipper: true }));
    const g = rules.groups.find((x: { name: string }) => x.name === "edgefleet-log-shipper");
    const byName = Object.fromEntries(g.rules.map((r: { alert: string }) => [r.alert, r]));
    expect(Object.keys(byName)).toEqual(["LogShipperMissing", "LogShipperDroppingLogs", "LogShipperStalled"]);
    // Node by node: every node whose kubelet answers, against the shipper targets that are up.
    expect(byName.LogShipperMissing.expr).toBe(
      '(max by (site, node) (up{job="kubelet"}) == 1) unless on (site, node) ' +
        '(max by (site, node) (up{job="fluent-bit"}) == 1)',
    );
    expect(byName.LogShipperDroppingLogs.expr).toContain('fluentbit_output_dropped_records_total{job="fluent-bit"}');
    expect(byName.LogShipperDroppingLogs.expr).toContain('fluentbit_output_retries_failed_total{job="fluent-bit"}');
    expect(byName.LogShipperStalled.expr).toMatch(
      /fluentbit_output_retries_total.* unless .*fluentbit_output_proc_records_total/,
    );
    for (const r of g.rules) expect(r.labels).toEqual({ profile: "factoryIiot", severity: "warning" });
  });
});

describe("Grafana's Loki datasource", () => {
  it("sits next to Prometheus, which stays the default, when the site runs Loki", () => {
    const m = renderGrafana({
      site: "s",
      namespace: "mon",
      prometheusUrl: "http://prometheus.mon.svc:9090",
      lokiUrl: lokiUrl("mon"),
      p99SloMs: 50,
      resources: { requests: { cpuMillis: 1, memoryMiB: 1 }, limits: { cpuMillis: 1, memoryMiB: 1 } },
    });
    const ds = parse(m.configMap.data!["datasources.yaml"]);
    expect(ds.apiVersion).toBe(1);
    expect(ds.datasources).toEqual([
      expect.objectContaining({ type: "prometheus", uid: "edgefleet-prometheus", isDefault: true }),
      {
        name: "Loki",
        uid: "edgefleet-loki",
        type: "loki",
        access: "proxy",
        url: "http://loki.mon.svc:3100",
        isDefault: false,
        editable: false,
      },
    ]);
    // The datasource file is what Grafana's provisioning mounts, and a change rolls its pod.
    const without = renderGrafana({
      site: "s",
      namespace: "mon",
      prometheusUrl: "http://prometheus.mon.svc:9090",
      p99SloMs: 50,
      resources: { requests: { cpuMillis: 1, memoryMiB: 1 }, limits: { cpuMillis: 1, memoryMiB: 1 } },
    });
    const hash = (x: typeof m) => x.deployment.spec!.template.metadata!.annotations!["edgefleet.dev/config-hash"];
    expect(hash(m)).not.toBe(hash(without));
  });
});

describe("Grafana dashboard uses only scraped metrics", () => {
  it.each(PROFILE_NAMES)(
    "%s: valid JSON; every query's metrics come from a scraped job or a recording rule",
    (name) => {
      const p = PROFILES[name];
      const targets = {
        appNamespace: "edgefleet",
        redis: !!p.extras.redis,
        rabbitmq: !!p.extras.rabbitmq,
        logShipperNamespace: p.extras.logShipper ? "mon" : undefined,
      };
      const config = renderPrometheusConfig({ site: "s", profile: name, targets });
      const rules = renderRules({ profile: p, ...targets, logShipper: p.extras.logShipper });
      const available = availableMetrics(config, rules);
      const m = renderGrafana({
        site: "s",
        namespace: "mon",
        prometheusUrl: "http://prometheus:9090",
        p99SloMs: p.slo.p99LatencyMs,
        resources: { requests: { cpuMillis: 1, memoryMiB: 1 }, limits: { cpuMillis: 1, memoryMiB: 1 } },
      });
      for (const json of Object.values(m.dashboards.data!)) {
        const exprs = dashboardExprs(json);
        expect(exprs.length).toBeGreaterThanOrEqual(6);
        for (const e of exprs)
          for (const metric of metricNames(e))
            expect({ e, metric, ok: available.has(metric) }).toEqual({ e, metric, ok: true });
      }
      // Rules too: alerts must not watch metrics nobody scrapes.
      for (const e of [...rules.matchAll(/expr: (.+)/g)].map((x) => x[1])) {
        for (const metric of metricNames(e))
          expect({ e, metric, ok: available.has(metric) }).toEqual({ e, metric, ok: true });
      }
    },
  );

  it("the check catches a metric nobody exports", () => {
    const available = availableMetrics(
      renderPrometheusConfig({
        site: "s",
        profile: "x",
        targets: { appNamespace: "e", redis: false, rabbitmq: false },
      }),
    );
    expect(available.has("redis_up")).toBe(false);
    expect(available.has("container_memory_working_set_bytes")).toBe(true);
  });

  it("has the panels the brief asks for and a provisioned datasource", () => {
    const d = JSON.parse(renderTrackerDashboard(20));
    expect(d.panels.map((p: { title: string }) => p.title)).toEqual([
      "Requests per second",
      "Latency P50 / P99",
      "Error ratio (5xx)",
      "Tracker restarts (1 h)",
      "Node CPU (cores)",
      "Node memory (working set)",
    ]);
    const m = renderGrafana({
      site: "s",
      namespace: "mon",
      prometheusUrl: "http://prometheus.mon.svc:9090",
      p99SloMs: 20,
      resources: { requests: { cpuMillis: 1, memoryMiB: 1 }, limits: { cpuMillis: 1, memoryMiB: 1 } },
    });
    const ds = parse(m.configMap.data!["datasources.yaml"]);
    expect(ds.datasources[0]).toMatchObject({
      type: "prometheus",
      url: "http://prometheus.mon.svc:9090",
      uid: "edgefleet-prometheus",
    });
    // No Loki given, no Loki datasource.
    expect(ds.datasources).toHaveLength(1);
    const env = m.deployment.spec!.template.spec!.containers[0].env!;
    expect(env).toContainEqual({ name: "GF_SECURITY_ADMIN_PASSWORD__FILE", value: "/etc/grafana-admin/password" });
  });
});
