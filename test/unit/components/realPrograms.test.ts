/**
 * Real programs check what the renderers produce. These fail (not skip) when
 * a program is missing: `scripts/deps.sh` installs them
 * (packages in scripts/debian-packages.txt).
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { PROFILE_NAMES, PROFILES } from "../../../config/profiles";
import {
  rabbitmqThresholds,
  rabbitUsers,
  renderDefinitions,
  renderEnabledPlugins,
  renderRabbitmqConf,
} from "../../../components/render/rabbitmq";
import { createCa, issueServerCertificate } from "../../../lib/x509";
import { stringify } from "yaml";
import { renderPrometheusConfig, renderRules } from "../../../components/render/prometheus";
import { redisMaxmemoryBytes, renderRedisAuthConf, renderRedisConf } from "../../../components/render/redis";

jest.setTimeout(120_000);

function need(bin: string): string {
  // RabbitMQ first from its own bin: the /usr/sbin wrappers switch to the rabbitmq user and its HOME.
  for (const dir of ["/usr/lib/rabbitmq/bin", ...(process.env.PATH ?? "").split(":"), "/usr/sbin"]) {
    const p = path.join(dir, bin);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`${bin} not found: run \`bash scripts/deps.sh\` (scripts/debian-packages.txt)`);
}

function tmpdir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `edgefleet-${prefix}-`));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

async function until<T>(what: string, f: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}: ${last}`);
}

describe("redis.conf in a real redis-server", () => {
  const redisServer = need("redis-server");
  const redisCli = need("redis-cli");

  it.each([
    ["logisticsHub", "none"],
    ["edgeGeneral", "aof"],
    ["edgeGeneral", "rdb"],
  ] as const)(
    "%s (%s persistence) is accepted and enforced",
    async (profile, persistence) => {
      const limit = PROFILES[profile].extras.redis!.resources.limits.memoryMiB;
      const dir = tmpdir("redis");
      const port = await freePort();
      const password = "P4ssw0rdForTheRealRedisTest";
      fs.writeFileSync(path.join(dir, "auth.conf"), renderRedisAuthConf(password));
      const conf = renderRedisConf({
        memoryLimitMiB: limit,
        persistence,
        port,
        dir,
        authInclude: path.join(dir, "auth.conf"),
      })
        // Loopback only on the test machine; the pod binds all interfaces.
        .replace("bind 0.0.0.0", "bind 127.0.0.1");
      fs.writeFileSync(path.join(dir, "redis.conf"), conf);
      // Output to a file: execFileSync below blocks the event loop that would drain a pipe.
      const logFile = path.join(dir, "server.log");
      const out = fs.openSync(logFile, "a");
      const server: ChildProcess = spawn(redisServer, [path.join(dir, "redis.conf")], { stdio: ["ignore", out, out] });
      fs.closeSync(out);
      const cli = (args: string[], auth = true) =>
        execFileSync(redisCli, ["-h", "127.0.0.1", "-p", String(port), ...args], {
          encoding: "utf8",
          env: auth ? { ...process.env, REDISCLI_AUTH: password } : { ...process.env, REDISCLI_AUTH: "" },
        }).trim();
      try {
        await until("redis PONG", () => (cli(["ping"]) === "PONG" ? true : undefined), 10_000).catch((e) => {
          throw new Error(`${e}\n${fs.readFileSync(logFile, "utf8")}`);
        });
        expect(cli(["config", "get", "maxmemory"]).split("\n")[1]).toBe(
          String(redisMaxmemoryBytes(limit, persistence)),
        );
        expect(cli(["config", "get", "maxmemory-policy"]).split("\n")[1]).toBe("allkeys-lru");
        expect(cli(["config", "get", "appendonly"]).split("\n")[1]).toBe(persistence === "aof" ? "yes" : "no");
        const save = { none: "", rdb: "900 1 300 100 60 10000", aof: "3600 1" }[persistence];
        expect(cli(["config", "get", "save"]).split("\n")[1] ?? "").toBe(save);
        // The include made the password mandatory.
        expect(cli(["ping"], false)).toMatch(/NOAUTH/);
      } finally {
        try {
          cli(["shutdown", "nosave"]);
        } catch {
          // shutdown closes the connection; the exit code is not meaningful
        }
        server.kill();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    300_000,
  );
});

/**
 * promtool with Kubernetes service discovery compiled in: $EDGEFLEET_PROMTOOL, else the one
 * tools/go/promtool builds. Debian's promtool lacks kubernetes_sd and is refused.
 */
/** promtool checks that the token and CA files exist; a pod has them, the test machine does not. */
function fakeServiceAccount(dir: string): string {
  const sa = path.join(dir, "serviceaccount");
  fs.mkdirSync(sa);
  fs.writeFileSync(path.join(sa, "token"), "token\n");
  fs.writeFileSync(path.join(sa, "ca.crt"), "");
  return sa;
}

function promtoolPath(): string {
  const candidates = [
    process.env.EDGEFLEET_PROMTOOL,
    process.env.EDGEFLEET_TOOLS_BIN && path.join(process.env.EDGEFLEET_TOOLS_BIN, "promtool"),
  ].filter((x): x is string => !!x);
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found)
    throw new Error(
      `promtool not found (${candidates.join(", ") || "EDGEFLEET_TOOLS_BIN unset"}): run \`eval "$(tools/bootstrap.sh --env)"\` (tools/go/promtool builds it)`,
    );
  return found;
}

describe("Prometheus config and rules pass promtool", () => {
  const promtool = promtoolPath();

  it.each(PROFILE_NAMES)("%s: server config and SLO rules", (name) => {
    const p = PROFILES[name];
    const dir = tmpdir("prom");
    try {
      const rulesFile = path.join(dir, "rules.yaml");
      const targets = {
        appNamespace: "edgefleet",
        redis: !!p.extras.redis,
        rabbitmq: !!p.extras.rabbitmq,
        logShipperNamespace: p.extras.logShipper ? "edgefleet-monitoring" : undefined,
      };
      fs.writeFileSync(
        rulesFile,
        renderRules({
          profile: p,
          redis: targets.redis,
          rabbitmq: targets.rabbitmq,
          logShipper: !!targets.logShipperNamespace,
        }),
      );
      fs.writeFileSync(
        path.join(dir, "prometheus.yml"),
        renderPrometheusConfig({
          site: "s1",
          profile: name,
          targets,
          rulesFile,
          serviceAccountDir: fakeServiceAccount(dir),
        }),
      );
      execFileSync(promtool, ["check", "rules", rulesFile], { encoding: "utf8" });
      execFileSync(promtool, ["check", "config", path.join(dir, "prometheus.yml")], { encoding: "utf8" });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("agent mode with remote write", () => {
    const dir = tmpdir("prom-agent");
    try {
      const file = path.join(dir, "prometheus.yml");
      fs.writeFileSync(
        file,
        renderPrometheusConfig({
          site: "s1",
          profile: "factoryIiot",
          targets: { appNamespace: "edgefleet", redis: false, rabbitmq: false },
          agentMode: true,
          remoteWriteUrl: "https://metrics.example.com/api/v1/write",
          serviceAccountDir: fakeServiceAccount(dir),
        }),
      );
      execFileSync(promtool, ["check", "config", "--agent", file], { encoding: "utf8" });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  /**
   * The shipper's alerts evaluated by promtool on synthetic series, labelled
   * as the kubelet and fluent-bit scrape jobs label theirs. Nodes:
   * n1 healthy, slow Loki (retries while delivering), then a drop at 21 m;
   * n2 shipper target down; n3 no shipper target at all (pod Pending);
   * n4 retries and delivers nothing (Loki unreachable); and a node n1 of
   * another site without a shipper, as a central store would hold it.
   */
  it("log shipper alerts fire on what they watch (promtool test rules)", () => {
    const dir = tmpdir("prom-shipper");
    try {
      fs.writeFileSync(
        path.join(dir, "rules.yaml"),
        renderRules({ profile: PROFILES["factoryIiot"], redis: false, rabbitmq: false, logShipper: true }),
      );
      const kubelet = (node: string) => ({
        series: `up{job="kubelet",instance="kubernetes.default.svc:443",node="${node}"}`,
        values: "1x60",
      });
      const shipper = (node: string) =>
        `job="fluent-bit",instance="10.42.0.${node.slice(1)}:2020",pod="fluent-bit-${node}",node="${node}"`;
      const output = (node: string) => `${shipper(node)},name="loki.0"`;
      const series = [
        ...["n1", "n2", "n3", "n4"].map(kubelet),
        { series: 'up{job="kubelet",instance="kubernetes.default.svc:443",node="n1",site="other"}', values: "1x60" },
        { series: `up{${shipper("n1")}}`, values: "1x60" },
        { series: `up{${shipper("n2")}}`, values: "0x60" },
        { series: `up{${shipper("n4")}}`, values: "1x60" },
        { series: `fluentbit_output_proc_records_total{${output("n1")}}`, values: "0+50x60" },
        { series: `fluentbit_output_retries_total{${output("n1")}}`, values: "0+1x60" },
        { series: `fluentbit_output_dropped_records_total{${output("n1")}}`, values: "0x20 7x40" },
        { series: `fluentbit_output_retries_failed_total{${output("n1")}}`, values: "0x60" },
        { series: `fluentbit_output_proc_records_total{${output("n4")}}`, values: "100x60" },
        { series: `fluentbit_output_retries_total{${output("n4")}}`, values: "0+3x60" },
        { series: `fluentbit_output_dropped_records_total{${output("n4")}}`, values: "0x60" },
      ];
      const labels = { profile: "factoryIiot", severity: "warning" };
      const missing = (node: string, site?: string) => ({
        exp_labels: { ...labels, node, ...(site ? { site } : {}) },
        exp_annotations: {
          summary: `No log shipper up on node ${node}`,
          description:
            "Its container logs reach Loki only once one runs, and only what kubelet has not yet rotated away.",
        },
      });
      const onShipper = (node: string, summary: string) => ({
        exp_labels: { ...labels, node, pod: `fluent-bit-${node}` },
        exp_annotations: { summary },
      });
      const tests = {
        rule_files: ["rules.yaml"],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: series,
            alert_rule_test: [
              // Pending until its 10 m have passed, then every node without a live shipper, in either site.
              { eval_time: "5m", alertname: "LogShipperMissing", exp_alerts: [] },
              {
                eval_time: "15m",
                alertname: "LogShipperMissing",
                exp_alerts: [missing("n2"), missing("n3"), missing("n1", "other")],
              },
              { eval_time: "15m", alertname: "LogShipperDroppingLogs", exp_alerts: [] },
              {
                eval_time: "25m",
                alertname: "LogShipperDroppingLogs",
                exp_alerts: [onShipper("n1", "Log shipper fluent-bit-n1 on n1 dropped logs Loki did not take")],
              },
              // Ten minutes after the drop it has left the window.
              { eval_time: "35m", alertname: "LogShipperDroppingLogs", exp_alerts: [] },
              // n1 retries too, but delivers: not stalled.
              {
                eval_time: "30m",
                alertname: "LogShipperStalled",
                exp_alerts: [onShipper("n4", "Log shipper fluent-bit-n4 on n4 retries and delivers nothing to Loki")],
              },
            ],
          },
        ],
      };
      const file = path.join(dir, "shipper.test.yaml");
      fs.writeFileSync(file, stringify(tests));
      try {
        execFileSync(promtool, ["test", "rules", file], { encoding: "utf8", stdio: "pipe" });
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string };
        throw new Error(`promtool test rules failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("promtool rejects a broken rule (the check is not vacuous)", () => {
    const dir = tmpdir("prom-bad");
    try {
      const f = path.join(dir, "bad.yaml");
      fs.writeFileSync(
        f,
        renderRules({ profile: PROFILES["logisticsHub"], redis: false, rabbitmq: false }).replace(
          "histogram_quantile(0.99,",
          "histogram_quantile(0.99,,",
        ),
      );
      expect(() => execFileSync(promtool, ["check", "rules", f], { stdio: "pipe" })).toThrow();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

/** A RabbitMQ node of our own on free ports, started from rendered files; `stop` ends it and removes its directory. */
async function startRabbit(
  conf: { memoryLimitMiB: number; mqtt: boolean; mqttPlaintext?: boolean },
  definitions: string,
) {
  const server = need("rabbitmq-server");
  const ctl = need("rabbitmqctl");
  const diagnostics = need("rabbitmq-diagnostics");
  const dir = tmpdir("rmq");
  const amqp = await freePort();
  const node = `edgefleet${process.pid}${amqp}@localhost`;
  const ports = {
    amqp,
    mgmt: await freePort(),
    prom: await freePort(),
    mqtts: await freePort(),
    mqtt: await freePort(),
  };
  const defs = path.join(dir, "definitions.json");
  fs.writeFileSync(defs, definitions);
  const tlsDir = path.join(dir, "tls");
  let caFile = "";
  if (conf.mqtt) {
    // The broker's certificate as the site gets it: a site CA and a server certificate for localhost.
    const ca = createCa("edgefleet test site MQTT CA", 30);
    const cert = issueServerCertificate(ca, { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], validityDays: 30 });
    fs.mkdirSync(tlsDir);
    caFile = path.join(tlsDir, "ca.crt");
    fs.writeFileSync(caFile, ca.certPem);
    fs.writeFileSync(path.join(tlsDir, "tls.crt"), cert.certPem);
    fs.writeFileSync(path.join(tlsDir, "tls.key"), cert.privateKeyPem, { mode: 0o600 });
  }
  const rendered = renderRabbitmqConf({ ...conf, definitionsPath: defs, tlsDir });
  const text = rendered
    .replace(/^listeners\.tcp\.default = 5672$/m, `listeners.tcp.default = ${amqp}`)
    .replace(/management\.tcp\.port = \d+/, `management.tcp.port = ${ports.mgmt}`)
    .replace(/prometheus\.tcp\.port = \d+/, `prometheus.tcp.port = ${ports.prom}`)
    .replace(/mqtt\.listeners\.ssl\.default = \d+/, `mqtt.listeners.ssl.default = ${ports.mqtts}`)
    .replace(/mqtt\.listeners\.tcp\.default = \d+/, `mqtt.listeners.tcp.default = ${ports.mqtt}`);
  fs.writeFileSync(path.join(dir, "rabbitmq.conf"), text);
  fs.writeFileSync(path.join(dir, "enabled_plugins"), renderEnabledPlugins(conf.mqtt));
  const env = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODENAME: node,
    RABBITMQ_CONFIG_FILE: path.join(dir, "rabbitmq.conf"),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, "enabled_plugins"),
    RABBITMQ_MNESIA_BASE: path.join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: path.join(dir, "log"),
    RABBITMQ_PID_FILE: path.join(dir, "rabbit.pid"),
    RABBITMQ_DIST_PORT: String(await freePort()),
  };
  // Output to a file, not a pipe: the execFileSync calls below block the event loop, a full
  // pipe would then block the broker's console logging (and with it startup and stop).
  const logFile = path.join(dir, "server.log");
  const out = fs.openSync(logFile, "a");
  const proc = spawn(server, [], { env, stdio: ["ignore", out, out], detached: true });
  fs.closeSync(out);
  const tail = () => fs.readFileSync(logFile, "utf8").slice(-4000);
  const run = (bin: string, args: string[]) =>
    execFileSync(bin, ["-n", node, ...args], { env, encoding: "utf8", stdio: "pipe", timeout: 150_000 });
  const stop = () => {
    try {
      run(ctl, ["stop"]);
    } catch {
      // Our own node's process group only (spawned detached above).
      if (proc.pid && proc.exitCode === null) process.kill(-proc.pid, "SIGKILL");
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    // await_startup needs a registered node: ping first (a config error ends the process here).
    await until(
      "the RabbitMQ node",
      () => (proc.exitCode === null ? (run(diagnostics, ["-q", "ping"]), true) : undefined),
      120_000,
    );
    run(ctl, ["await_startup", "--timeout", "120"]);
  } catch (e) {
    const log = tail();
    stop();
    throw new Error(`RabbitMQ did not start with our config: ${e}\n${log}`);
  }
  return { run, stop, tail, ports, caFile, rendered };
}

/**
 * Debian bookworm ships RabbitMQ 3.10; every key we render exists there, so the
 * whole config is checked (a 3.13-only key would fail boot and this test).
 */
describe("rabbitmq.conf and definitions in a real RabbitMQ (Debian 3.10)", () => {
  const ctl = need("rabbitmqctl");
  const plugins = need("rabbitmq-plugins");

  it.each([
    ["retailCity", true],
    ["supplyChain", false],
  ] as const)(
    "%s boots with our config: app users only, thresholds, plugins",
    async (profile, mqtt) => {
      const limit = PROFILES[profile].extras.rabbitmq!.resources.limits.memoryMiB;
      const devices = mqtt ? { "sensor-1": "D".repeat(32) } : undefined;
      const r = await startRabbit(
        { memoryLimitMiB: limit, mqtt },
        renderDefinitions(rabbitUsers({ tracker: "T".repeat(32), devices })),
      );
      try {
        const users = r.run(ctl, ["list_users", "-q", "--formatter", "json"]);
        const names = (JSON.parse(users) as { user: string }[]).map((u) => u.user).sort();
        expect(names).toEqual(mqtt ? ["sensor-1", "tracker"] : ["tracker"]);
        const t = rabbitmqThresholds(limit);
        expect(Number(r.run(ctl, ["eval", "vm_memory_monitor:get_memory_limit()."]).trim())).toBe(t.watermarkBytes);
        expect(Number(r.run(ctl, ["eval", "rabbit_disk_monitor:get_disk_free_limit()."]).trim())).toBe(
          t.diskFreeLimitBytes,
        );
        const enabled = r
          .run(plugins, ["list", "-e", "-m"])
          .split("\n")
          .map((s) => s.trim())
          .filter(Boolean)
          .sort();
        expect(enabled).toEqual(
          expect.arrayContaining(["rabbitmq_management", "rabbitmq_prometheus", ...(mqtt ? ["rabbitmq_mqtt"] : [])]),
        );
        if (mqtt) {
          expect(r.run(ctl, ["eval", "application:get_env(rabbitmq_mqtt, allow_anonymous)."]).trim()).toBe(
            "{ok,false}",
          );
        }
      } finally {
        r.stop();
      }
    },
    300_000,
  );
});

/**
 * MQTT as a device sees it: TLS on the rendered listener with the site CA,
 * each device its own user and topic prefix, plain MQTT shut unless the stack
 * opens it. mosquitto_pub/sub are the devices (mosquitto-clients).
 */
describe("MQTT over TLS in a real RabbitMQ (Debian 3.10)", () => {
  const pub = need("mosquitto_pub");
  const sub = need("mosquitto_sub");
  const limit = PROFILES.retailCity.extras.rabbitmq!.resources.limits.memoryMiB;
  const pw = { "sensor-1": "S1" + "a".repeat(30), "sensor-2": "S2" + "b".repeat(30) };
  const definitions = renderDefinitions(rabbitUsers({ tracker: "T".repeat(32), devices: pw }));

  /** mosquitto_pub's exit and stderr: 0 is a publish the broker took (QoS 1: it acknowledged it). */
  function publish(
    r: { ports: { mqtts: number; mqtt: number }; caFile: string },
    o: { user: string; password: string; topic: string; tls?: boolean },
  ) {
    const tls = o.tls ?? true;
    const args = [
      "-h",
      "localhost",
      "-p",
      String(tls ? r.ports.mqtts : r.ports.mqtt),
      ...(tls ? ["--cafile", r.caFile] : []),
      "-u",
      o.user,
      "-P",
      o.password,
      // Not the device's own client id: that one is the subscriber's session below.
      "-i",
      `${o.user}-pub`,
      "-q",
      "1",
      "-t",
      o.topic,
      "-m",
      "21.5",
      "-V",
      "mqttv311",
    ];
    try {
      execFileSync(pub, args, { encoding: "utf8", stdio: "pipe", timeout: 20_000 });
      return { code: 0, stderr: "" };
    } catch (e) {
      const err = e as { status?: number; stderr?: string };
      return { code: err.status ?? -1, stderr: err.stderr ?? "" };
    }
  }

  /** A subscriber in the background (its client id is its user name); `lines` is what it has received. */
  function watch(r: { ports: { mqtts: number }; caFile: string }, user: string, password: string, topic: string) {
    const file = path.join(os.tmpdir(), `edgefleet-mqtt-${user}-${process.pid}.txt`);
    const fd = fs.openSync(file, "w");
    const proc = spawn(
      sub,
      [
        "-h",
        "localhost",
        "-p",
        String(r.ports.mqtts),
        "--cafile",
        r.caFile,
        "-u",
        user,
        "-P",
        password,
        "-i",
        user,
        "-q",
        "1",
        "-t",
        topic,
        "-v",
        "-W",
        "40",
        "-V",
        "mqttv311",
      ],
      { stdio: ["ignore", fd, "ignore"] },
    );
    fs.closeSync(fd);
    return {
      lines: () => fs.readFileSync(file, "utf8").split("\n").filter(Boolean),
      stop: () => {
        if (proc.exitCode === null) proc.kill("SIGTERM");
        fs.rmSync(file, { force: true });
      },
    };
  }

  /** mosquitto_sub for 3 s: 27 is its timeout with a live subscription (nothing arrived), anything else a refusal. */
  function subscribe(
    r: { ports: { mqtts: number }; caFile: string },
    user: string,
    password: string,
    clientId: string,
    topic: string,
  ) {
    try {
      const out = execFileSync(
        sub,
        [
          "-h",
          "localhost",
          "-p",
          String(r.ports.mqtts),
          "--cafile",
          r.caFile,
          "-u",
          user,
          "-P",
          password,
          "-i",
          clientId,
          "-q",
          "1",
          "-c",
          "-t",
          topic,
          "-W",
          "3",
          "-V",
          "mqttv311",
        ],
        { encoding: "utf8", stdio: "pipe", timeout: 20_000 },
      );
      return { code: 0, out };
    } catch (e) {
      const err = e as { status?: number; stderr?: string };
      return { code: err.status ?? -1, out: err.stderr ?? "" };
    }
  }

  it("TLS only by default: devices publish under their own prefix, nowhere else, and 1883 is shut", async () => {
    const r = await startRabbit({ memoryLimitMiB: limit, mqtt: true }, definitions);
    try {
      expect(r.rendered).toContain("mqtt.listeners.tcp = none");
      // sensor-1 on its own prefix, and sensor-2 trying to read it: what each receives is the test.
      const own = watch(r, "sensor-1", pw["sensor-1"], "devices/sensor-1/#");
      const snoop = watch(r, "sensor-2", pw["sensor-2"], "devices/sensor-1/#");
      try {
        await new Promise((res) => setTimeout(res, 2000));
        expect(publish(r, { user: "sensor-1", password: pw["sensor-1"], topic: "devices/sensor-1/temp" })).toEqual({
          code: 0,
          stderr: "",
        });
        await until(
          "sensor-1's own subscription to receive its message",
          () => (own.lines().includes("devices/sensor-1/temp 21.5") ? true : undefined),
          15_000,
        );

        const wrong = publish(r, { user: "sensor-1", password: "x".repeat(32), topic: "devices/sensor-1/temp" });
        expect(wrong.code).not.toBe(0);
        expect(wrong.stderr).toMatch(/not authori[sz]ed|bad user name or password|Connection Refused/i);

        // sensor-2 into sensor-1's prefix: RabbitMQ closes the connection on the unauthorised publish.
        const intrude = publish(r, { user: "sensor-2", password: pw["sensor-2"], topic: "devices/sensor-1/temp" });
        expect(intrude.code).not.toBe(0);
        expect(publish(r, { user: "sensor-2", password: pw["sensor-2"], topic: "devices/sensor-2/temp" }).code).toBe(0);
        // sensor-2 may not take sensor-1's client id for a session (its queue is sensor-1's).
        expect(subscribe(r, "sensor-2", pw["sensor-2"], "sensor-1", "devices/sensor-2/#").code).not.toBe(27);
        await new Promise((res) => setTimeout(res, 1500));
        expect(own.lines()).toEqual(["devices/sensor-1/temp 21.5"]);
        expect(snoop.lines()).toEqual([]);
      } finally {
        own.stop();
        snoop.stop();
      }

      // Without the site CA the device refuses the broker (the certificate is verified, not just used).
      const noCa = (() => {
        try {
          execFileSync(
            pub,
            [
              "-h",
              "localhost",
              "-p",
              String(r.ports.mqtts),
              "--capath",
              "/etc/ssl/certs",
              "-u",
              "sensor-1",
              "-P",
              pw["sensor-1"],
              "-t",
              "devices/sensor-1/x",
              "-m",
              "1",
              "-q",
              "1",
            ],
            { stdio: "pipe", timeout: 20_000 },
          );
          return 0;
        } catch (e) {
          return (e as { status?: number }).status ?? -1;
        }
      })();
      expect(noCa).not.toBe(0);

      // TLS 1.3 and 1.2 are offered, nothing older.
      const hello = (v: string) =>
        execFileSync(
          "openssl",
          ["s_client", "-connect", `127.0.0.1:${r.ports.mqtts}`, "-CAfile", r.caFile, v, "-verify_return_error"],
          {
            input: "",
            encoding: "utf8",
            stdio: "pipe",
            timeout: 20_000,
          },
        );
      expect(hello("-tls1_3")).toMatch(/Verify return code: 0 \(ok\)/);
      expect(hello("-tls1_2")).toMatch(/Verify return code: 0 \(ok\)/);
      expect(() => hello("-tls1_1")).toThrow();

      // Nothing listens for plain MQTT: neither the port we would have rendered nor the plugin's default.
      const listeners = r.run(need("rabbitmq-diagnostics"), ["-q", "listeners"]);
      expect(listeners).toMatch(/mqtt\/ssl/);
      expect(listeners).not.toMatch(/protocol: mqtt,/);
      expect(
        publish(r, { user: "sensor-1", password: pw["sensor-1"], topic: "devices/sensor-1/t", tls: false }).code,
      ).not.toBe(0);
    } finally {
      r.stop();
    }
  }, 300_000);

  it("plaintext: true opens plain MQTT beside TLS", async () => {
    const r = await startRabbit({ memoryLimitMiB: limit, mqtt: true, mqttPlaintext: true }, definitions);
    try {
      expect(
        publish(r, { user: "sensor-2", password: pw["sensor-2"], topic: "devices/sensor-2/t", tls: false }).code,
      ).toBe(0);
      expect(publish(r, { user: "sensor-2", password: pw["sensor-2"], topic: "devices/sensor-2/t" }).code).toBe(0);
    } finally {
      r.stop();
    }
  }, 300_000);
});
