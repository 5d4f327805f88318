import * as pulumi from "@pulumi/pulumi";
import { validateUpgrade } from "./render/upgrade";

export interface VersionGuardArgs {
  /** Stack and site, for the error message. */
  where: string;
  version: string;
}

/**
 * Refuses a K3s downgrade or a skipped minor version at preview. It is a
 * resource only so that the version the cluster runs now is known: the
 * engine hands `check` the inputs recorded in state (olds) next to the new
 * ones, before any host is touched.
 */
const provider: pulumi.dynamic.ResourceProvider = {
  async check(olds: VersionGuardArgs, news: VersionGuardArgs) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (olds && olds.version) {
      try {
        validateUpgrade(olds.version, news.version);
      } catch (e) {
        failures.push({ property: "version", reason: `${news.where}: ${(e as Error).message}` });
      }
    }
    return { inputs: news, failures };
  },
  async create(inputs: VersionGuardArgs) {
    return { id: inputs.where, outs: inputs };
  },
  async diff(_id: string, olds: VersionGuardArgs, news: VersionGuardArgs) {
    return { changes: olds.version !== news.version || olds.where !== news.where };
  },
  async update(_id: string, _olds: VersionGuardArgs, news: VersionGuardArgs) {
    return { outs: news };
  },
};

export class VersionGuard extends pulumi.dynamic.Resource {
  declare public readonly version: pulumi.Output<string>;

  constructor(name: string, args: VersionGuardArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, args, opts, "edgefleet", "VersionGuard");
  }
}
