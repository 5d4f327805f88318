/**
 * The embedded-etcd rule: how many servers a K3s site may have, and what its
 * servers keep the cluster's state in. The one definition, for validation
 * (config/validate.ts), the cluster (infra/k3sCluster.ts: who starts with
 * --cluster-init) and CrossGuard's ha-servers-odd
 * (policies/crossguard/rules/cluster.ts); and how many servers one change may
 * take away (k3sServerRemoval, asked by infra/serverSetGuard.ts at preview).
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

/**
 * The verdict on a change to a site's server set (infra/serverSetGuard.ts
 * asks it at preview, against the servers recorded in state).
 */
export type ServerRemoval =
  | { verdict: "allowed"; removed: string[] }
  | {
      verdict: "refused";
      removed: string[];
      /** What is wrong, to follow "<stack>/<site>: ". */
      problem: string;
      fix: string;
    };

export interface ServerRemovalArgs {
  /** The site's servers as last deployed (state), by inventory name. */
  before: string[];
  /** The site's servers now declared. */
  after: string[];
  /** Servers the stack acknowledges removing (edgefleet:sites[i].acknowledgeServerRemoval). */
  acknowledged?: string[];
  /** The servers ran no kubelet (disableAgentOnServers), so they have no Node object. */
  controlPlaneOnly?: boolean;
  /** The acknowledgement key's path, for the fix. */
  acknowledgePath?: string;
}

const names = (ns: string[]): string => ns.join(", ");

/**
 * Whether one `up` may take servers out of a site. Removing servers takes
 * their members out of the site's embedded etcd, one after another, and etcd
 * commits each of those changes only with a majority of its members. So a
 * change may remove fewer than half of the servers (removed < ceil(before/2):
 * replacing one of three, or 5 -> 3, two of five), never a majority
 * (3 -> 1, 5 -> 2) and never the last one (the site's cluster, with every
 * object in it, would go with it). A server whose role changes to agent
 * counts as removed: its member goes just the same. A site whose servers run no kubelet has
 * no Node objects, through which K3s removes members (pkg/etcd/member_controller.go,
 * infra/K3S-NOTES.md section 10): removing any of them is refused too.
 *
 * Every refusal can be overridden, server by server, by acknowledging the
 * removal: a deliberate shrink (3 -> 1, which has no odd count in between),
 * or members removed by hand.
 */
export function k3sServerRemoval(args: ServerRemovalArgs): ServerRemoval {
  const after = new Set(args.after);
  const removed = args.before.filter((n) => !after.has(n));
  if (removed.length === 0) return { verdict: "allowed", removed };
  const acknowledged = new Set(args.acknowledged ?? []);
  const unacknowledged = removed.filter((n) => !acknowledged.has(n));
  if (unacknowledged.length === 0) return { verdict: "allowed", removed };

  const before = args.before.length;
  const key = args.acknowledgePath ?? "acknowledgeServerRemoval";
  const acknowledge = `list ${names(unacknowledged)} in ${key} and run again`;
  const what = `this change removes ${removed.length === 1 ? "server" : "servers"} ${names(removed)}`;
  if (removed.length === before) {
    return {
      verdict: "refused",
      removed,
      problem:
        `${what}, ${before === 1 ? "the site's only server" : `all ${before} of the site's servers`}: ` +
        "the cluster's datastore (every Kubernetes object of the site) would go with " +
        (before === 1 ? "it" : "them") +
        ", and the servers left would start an empty cluster",
      fix:
        "keep at least one of the site's servers in the inventory; to rebuild the site's cluster from nothing on purpose, " +
        `${acknowledge}.`,
    };
  }
  if (removed.length >= Math.ceil(before / 2)) {
    return {
      verdict: "refused",
      removed,
      problem:
        `${what}, ${removed.length} of the site's ${before}: a majority. The servers run embedded etcd, ` +
        "which commits a change of its members only with a majority of them, and losing a majority at once loses quorum",
      fix:
        `take out at most ${Math.ceil(before / 2) - 1} of the ${before} servers per \`pulumi up\`, keeping an odd count ` +
        `(replace a server by removing it and adding its successor in the same change` +
        `${before >= 5 ? `; ${before} -> ${before - 2} is one change` : ""}); to shrink on purpose past that ` +
        `(3 -> 1 has no odd count between), ${acknowledge}.`,
    };
  }
  if (args.controlPlaneOnly && before > 1) {
    return {
      verdict: "refused",
      removed,
      problem:
        `${what}, whose servers run no kubelet (disableAgentOnServers) and so have no Node object; ` +
        "K3s removes a server's etcd member only when its Node is deleted, so the member would stay behind, dead, " +
        "and count against quorum",
      fix:
        "remove the server's etcd member by hand first (etcdctl member remove, infra/K3S-NOTES.md section 10), " +
        `then ${acknowledge}.`,
    };
  }
  return { verdict: "allowed", removed };
}
