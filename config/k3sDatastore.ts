/**
 * The embedded-etcd rule: how many servers a K3s site may have, and what its
 * servers keep the cluster's state in. The one definition, for validation
 * (config/validate.ts), the cluster (infra/k3sCluster.ts: who starts with
 * --cluster-init) and CrossGuard's ha-servers-odd
 * (policies/crossguard/rules/cluster.ts).
 *
 * What K3s does (docs.k3s.io/datastore, /datastore/ha-embedded):
 * - one server keeps the state in SQLite through kine, and starts without
 *   --cluster-init; a second server cannot join it (joining needs the first
 *   server to run etcd);
 * - an HA site runs embedded etcd: the first server starts with
 *   --cluster-init, the others join it with --server. etcd needs a majority
 *   of its members, so an even count tolerates no more failures than the odd
 *   count below it, and 2 servers tolerate none: K3s's maintainers call 2
 *   servers unsupported (k3s-io/k3s#4728, k3s-io/k3s discussion #10072). So
 *   the counts are 1, or an odd number of at least 3.
 *
 * Imports nothing, so the CrossGuard pack and Node's type stripping load it
 * as it is.
 */

export type K3sDatastore = "sqlite" | "etcd";

/**
 * The verdict on a server count. A string discriminant, not a boolean: the
 * CrossGuard pack is compiled without strictNullChecks (see
 * policies/README.md, "Code the pack shares"), where a boolean one does not
 * narrow.
 */
export type ServerCount =
  | {
      verdict: "runs";
      datastore: K3sDatastore;
      /** The first server starts with --cluster-init (embedded etcd). */
      clusterInit: boolean;
    }
  | {
      verdict: "refused";
      /** What is wrong, to follow "site <name> has ". */
      problem: string;
      fix: string;
    };

/** Whether a K3s site may have `servers` servers, and if so what they run. */
export function k3sServerCount(servers: number): ServerCount {
  if (!Number.isInteger(servers) || servers < 0) {
    return {
      verdict: "refused",
      problem: `${servers} servers, which is not a count`,
      fix: "give one host (or three, for HA with embedded etcd) role: server.",
    };
  }
  if (servers === 0) {
    return {
      verdict: "refused",
      problem: "no server",
      fix: "give one host (or three, for HA with embedded etcd) role: server.",
    };
  }
  if (servers === 1) return { verdict: "runs", datastore: "sqlite", clusterInit: false };
  if (servers % 2 === 0) {
    return {
      verdict: "refused",
      problem:
        `${servers} servers; more than one server runs embedded etcd, which needs an odd count to keep quorum ` +
        `(${servers} tolerate no more failures than ${servers - 1}${servers === 2 ? ", that is none" : ""})`,
      fix: `use ${servers - 1} or ${servers + 1} servers (1 for SQLite, 3 for HA with embedded etcd), making the rest agents.`,
    };
  }
  return { verdict: "runs", datastore: "etcd", clusterInit: true };
}
