/**
 * The embedded-etcd rule (config/k3sDatastore.ts) as validation, the cluster
 * and CrossGuard apply it: validate() refuses exactly the server counts the
 * cluster would not build, and the cluster starts embedded etcd
 * (--cluster-init on its first server) exactly where the rule says.
 */
import { k3sServerCount } from "../../../config/k3sDatastore";
import { ConfigError, validate } from "../../../config/validate";
import { K3sCluster } from "../../../infra/k3sCluster";
import { haServerViolations } from "../../../policies/crossguard/rules/cluster";
import { SECRET_KEYS, validConfig } from "../config/helpers";
import { clusterArgs, clusterHost, installClusterMocks } from "./clusterMocks";

const { registered, settle } = installClusterMocks();

describe("k3sServerCount", () => {
  it.each([
    [1, { verdict: "runs", datastore: "sqlite", clusterInit: false }],
    [3, { verdict: "runs", datastore: "etcd", clusterInit: true }],
    [5, { verdict: "runs", datastore: "etcd", clusterInit: true }],
    [7, { verdict: "runs", datastore: "etcd", clusterInit: true }],
  ])("runs %i servers", (n, want) => {
    expect(k3sServerCount(n)).toEqual(want);
  });

  it.each([0, 2, 4, 6, -1, 1.5])("refuses %d servers, with a fix", (n) => {
    const c = k3sServerCount(n);
    expect(c.verdict).toBe("refused");
    if (c.verdict === "refused") expect(c.fix).toMatch(/role: server|servers \(1 for SQLite, 3 for HA/);
  });

  it("says why two servers are no HA, and which counts to use", () => {
    expect(k3sServerCount(2)).toEqual({
      verdict: "refused",
      problem:
        "2 servers; more than one server runs embedded etcd, which needs an odd count to keep quorum " +
        "(2 tolerate no more failures than 1, that is none)",
      fix: "use 1 or 3 servers (1 for SQLite, 3 for HA with embedded etcd), making the rest agents.",
    });
  });
});

/** Site hub-a of the base config with `n` servers and two agents. */
function configWithServers(n: number): Record<string, unknown> {
  const cfg = validConfig();
  const sites = cfg["edgefleet:sites"] as Array<{ hosts: Array<Record<string, unknown>> }>;
  const [server, , , agent1, agent2] = sites[0].hosts;
  const servers = Array.from({ length: n }, (_, i) => ({
    ...server,
    name: `a-s${i + 1}`,
    address: `192.0.2.${11 + i}`,
    hostKey: server.hostKey,
  }));
  sites[0].hosts = [...servers, agent1, agent2];
  return cfg;
}

function validationRefuses(n: number): boolean {
  try {
    validate("s", configWithServers(n), SECRET_KEYS);
    return false;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.some((p) => p.path === "edgefleet:sites[0].hosts" && /servers|no server/.test(p.problem));
  }
}

describe("validation, the cluster and CrossGuard agree on every server count", () => {
  it.each([0, 1, 2, 3, 4, 5])(
    "%i servers",
    async (n) => {
      const ok = k3sServerCount(n).verdict === "runs";
      expect(validationRefuses(n)).toBe(!ok);
      expect(haServerViolations(n).length > 0).toBe(!ok);

      const name = `etcd${n}`;
      const hosts = [
        ...Array.from({ length: n }, (_, i) => clusterHost(`s${i + 1}`, i, "server")),
        clusterHost("a1", n, "agent"),
      ];
      const build = () => new K3sCluster(name, clusterArgs(name, hosts));
      if (!ok) {
        expect(build).toThrow(new RegExp(`unit/${name}: the site has (no server|${n} servers)`));
        return;
      }
      build();
      await settle();
      const configs = registered
        .filter((r) => r.name.startsWith(`${name}-s`) && r.name.endsWith("-configure"))
        .map((r) => ({ name: r.name, yaml: String(r.inputs.environment.CONFIG_YAML) }));
      expect(configs).toHaveLength(n);
      for (const c of configs) {
        const first = c.name === `${name}-s1-configure`;
        expect({ name: c.name, clusterInit: /^cluster-init: true$/m.test(c.yaml) }).toEqual({
          name: c.name,
          clusterInit: first && n >= 3,
        });
        expect({ name: c.name, joins: /^server: "?https:\/\/192\.0\.2\.10:6443"?$/m.test(c.yaml) }).toEqual({
          name: c.name,
          joins: !first,
        });
      }
      // The first cluster under the mocks pays Pulumi's cold start: seconds on a loaded 2-core machine.
    },
    60_000,
  );
});
