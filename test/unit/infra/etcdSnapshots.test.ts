/**
 * Etcd snapshot settings in config.yaml (servers only, no credential), the
 * cron grammar K3s's scheduler takes, and the drop-in path configure.sh and
 * service.sh default to being the one config/etcdBackup.ts names.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ETCD_S3_CREDENTIALS_FILE, cronProblem } from "../../../config/etcdBackup";
import { k3sHostConfigs } from "../../../infra/k3sCluster";
import { renderK3sConfig, type K3sConfigArgs } from "../../../infra/render/k3sConfig";

const server: K3sConfigArgs = {
  role: "server",
  nodeName: "hub-s1",
  site: "hub",
  profile: "logisticsHub",
  size: "4c8g",
  runsTrackers: false,
  wasm: true,
  clusterInit: true,
};
const s3 = { endpoint: "minio.hub.example:9000", bucket: "edge-snapshots", folder: "cn-east/hub", region: "cn-east-1" };

describe("etcd snapshot keys in config.yaml", () => {
  it("renders schedule, retention, compression and the S3 target, and no credential", () => {
    const doc = parse(
      renderK3sConfig({
        ...server,
        etcdSnapshots: { scheduleCron: "0 */6 * * *", retention: 7, compress: true, s3: { ...s3, insecure: true } },
      }),
    ) as Record<string, unknown>;
    expect(doc).toMatchObject({
      "etcd-snapshot-schedule-cron": "0 */6 * * *",
      "etcd-snapshot-retention": 7,
      "etcd-snapshot-compress": true,
      "etcd-s3": true,
      "etcd-s3-endpoint": "minio.hub.example:9000",
      "etcd-s3-bucket": "edge-snapshots",
      "etcd-s3-region": "cn-east-1",
      "etcd-s3-folder": "cn-east/hub",
      "etcd-s3-insecure": true,
    });
    expect(Object.keys(doc).filter((k) => /access-key|secret-key/.test(k))).toEqual([]);
  });

  it("leaves S3 and compression out when not asked for, and renders nothing without etcdSnapshots", () => {
    const doc = parse(renderK3sConfig({ ...server, etcdSnapshots: { scheduleCron: "@daily", retention: 3 } }));
    expect(Object.keys(doc).filter((k) => k.startsWith("etcd-"))).toEqual([
      "etcd-snapshot-schedule-cron",
      "etcd-snapshot-retention",
    ]);
    expect(renderK3sConfig(server)).not.toMatch(/etcd-/);
  });

  it("refuses snapshot settings on an agent (k3s agent refuses unknown flags) and bad values on a server", () => {
    const agent: K3sConfigArgs = {
      ...server,
      role: "agent",
      clusterInit: undefined,
      serverUrl: "https://10.0.0.1:6443",
      etcdSnapshots: { scheduleCron: "@daily", retention: 3 },
    };
    expect(() => renderK3sConfig(agent)).toThrow(/etcdSnapshots apply to servers only/);
    expect(() => renderK3sConfig({ ...server, etcdSnapshots: { scheduleCron: "daily", retention: 3 } })).toThrow(
      /etcd snapshot schedule: "daily" has 1 field/,
    );
    expect(() => renderK3sConfig({ ...server, etcdSnapshots: { scheduleCron: "@daily", retention: 0 } })).toThrow(
      /retention must be a whole number of at least 1/,
    );
  });

  it("goes to every server of an embedded-etcd site and no agent; a SQLite site refuses it", () => {
    const host = (name: string, address: string, role: "server" | "agent") => ({
      access: { name, address, port: 22, user: "e", hostKey: "k", hostKeyConfigPath: "-" },
      role,
      size: "4c8g" as const,
    });
    const etcdSnapshots = { scheduleCron: "@hourly", retention: 2 };
    const base = { site: "hub", profile: "logisticsHub" as const, wasm: true, etcdSnapshots };
    const configs = k3sHostConfigs({
      ...base,
      hosts: [
        host("s1", "10.0.0.1", "server"),
        host("s2", "10.0.0.2", "server"),
        host("s3", "10.0.0.3", "server"),
        host("a1", "10.0.0.4", "agent"),
      ],
    });
    expect([...configs].map(([n, c]) => [n, !!c.etcdSnapshots])).toEqual([
      ["s1", true],
      ["s2", true],
      ["s3", true],
      ["a1", false],
    ]);
    expect(() => k3sHostConfigs({ ...base, hosts: [host("s1", "10.0.0.1", "server")] })).toThrow(
      /etcd snapshots need embedded etcd/,
    );
  });
});

describe("cronProblem (robfig/cron's standard grammar, as K3s schedules snapshots)", () => {
  it.each(["0 */12 * * *", "30 2 * * 1-5", "0 0,12 1 jan-jun sun", "@daily", "@hourly", "@every 6h", "@every 1h30m"])(
    "takes %s",
    (spec) => expect(cronProblem(spec)).toBeUndefined(),
  );
  it.each([
    ["0 */6 * *", /has 4 fields/],
    ["0 0 * * * *", /has 6 fields/],
    ["60 * * * *", /minute "60" is outside 0-59/],
    ["0 24 * * *", /hour "24" is outside 0-23/],
    ["0 0 0 * *", /day of month "0" is outside 1-31/],
    ["0 0 * * 7", /day of week "7" is outside 0-6/],
    ["0 0 * * 5-1", /runs backwards/],
    ["*/0 * * * *", /step "0" must be at least 1/],
    ["@often", /is not one of/],
    ["@every 0h", /zero interval/],
  ])("refuses %s", (spec, why) => expect(cronProblem(spec)).toMatch(why));
});

describe("the S3 credentials drop-in", () => {
  it("is the path configure.sh and service.sh default to, inside K3s's config.yaml.d", () => {
    expect(ETCD_S3_CREDENTIALS_FILE).toMatch(/^\/etc\/rancher\/k3s\/config\.yaml\.d\/[^/]+\.yaml$/);
    for (const script of ["configure.sh", "service.sh"]) {
      const text = fs.readFileSync(path.join(__dirname, "../../../infra/scripts", script), "utf8");
      expect(text).toContain(`\${S3_CREDENTIALS_FILE:-${ETCD_S3_CREDENTIALS_FILE}}`);
    }
  });
});
