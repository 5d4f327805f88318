import * as pulumi from "@pulumi/pulumi";
import { k3sServerRemoval } from "../config/k3sDatastore";

export interface ServerSetGuardArgs {
  /** Stack and site, for the error message. */
  where: string;
  /** The site's servers, by inventory name, in inventory order. */
  servers: string[];
  /** Servers whose removal the stack acknowledges (edgefleet:sites[i].acknowledgeServerRemoval). */
  acknowledged: string[];
  /** The servers run no kubelet (disableAgentOnServers): no Node objects. */
  controlPlaneOnly: boolean;
  /** The acknowledgement key's path, for the fix (not compared: a site's index may change). */
  acknowledgePath: string;
}

/**
 * Refuses, at preview, a change that takes a majority of a site's servers, or
 * its last one, out at once (config/k3sDatastore.ts, k3sServerRemoval). Like
 * VersionGuard it is a resource only so that the servers the site runs now
 * are known: the engine hands `check` the inputs recorded in state (olds)
 * next to the new ones, before any host step, and every host step of the site
 * depends on it, so a refused change opens no SSH session.
 *
 * It knows what it recorded itself: the first `up` that declares it (a new
 * site, or a site deployed before it existed) records the servers and judges
 * nothing. A removal that failed part-way is recorded as done (the guard is
 * updated first), and the next `up` finishes it.
 */
const provider: pulumi.dynamic.ResourceProvider = {
  async check(olds: ServerSetGuardArgs, news: ServerSetGuardArgs) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (olds && Array.isArray(olds.servers)) {
      const verdict = k3sServerRemoval({
        before: olds.servers,
        after: news.servers,
        acknowledged: news.acknowledged,
        // What the removed servers were, not what the site is now.
        controlPlaneOnly: !!olds.controlPlaneOnly,
        acknowledgePath: news.acknowledgePath,
      });
      if (verdict.verdict === "refused") {
        failures.push({
          property: "servers",
          reason: `${news.where}: ${verdict.problem}; nothing was changed. Fix: ${verdict.fix}`,
        });
      }
    }
    return { inputs: news, failures };
  },
  async create(inputs: ServerSetGuardArgs) {
    return { id: inputs.where, outs: inputs };
  },
  async diff(_id: string, olds: ServerSetGuardArgs, news: ServerSetGuardArgs) {
    const judged = (a: ServerSetGuardArgs) =>
      JSON.stringify([a.where, a.servers, a.acknowledged ?? [], !!a.controlPlaneOnly]);
    return { changes: judged(olds) !== judged(news) };
  },
  async update(_id: string, _olds: ServerSetGuardArgs, news: ServerSetGuardArgs) {
    return { outs: news };
  },
};

export class ServerSetGuard extends pulumi.dynamic.Resource {
  declare public readonly servers: pulumi.Output<string[]>;

  constructor(name: string, args: ServerSetGuardArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, args, opts, "edgefleet", "ServerSetGuard");
  }
}

/** The guard's check, for tests: what `pulumi preview` reports for these olds and news. */
export const serverSetGuardProvider = provider;
