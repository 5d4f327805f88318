import * as pulumi from "@pulumi/pulumi";
import { createCa } from "./x509";

/**
 * A site's own certificate authority, made once and kept in state: its
 * private key a secret output, its certificate plain (devices are given it to
 * trust the broker). Replaced only when `commonName` or `generation` change,
 * so server certificates can be re-issued (new SANs) under the CA devices
 * already trust. A dynamic resource like lib/randomSecret.ts, for the same
 * reason (no provider plugin can be built here).
 */
export interface SiteCaArgs {
  commonName: string;
  /** @default 3650 (ten years: devices in the field keep the CA they were given) */
  validityDays?: number;
  /** Raise to make a new CA (every device must then be given the new certificate). @default 0 */
  generation?: number;
}

interface Inputs {
  commonName: string;
  validityDays: number;
  generation: number;
}

const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: Inputs, news: Inputs) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (!Number.isInteger(news.validityDays) || news.validityDays < 1)
      failures.push({ property: "validityDays", reason: "validityDays must be a positive integer" });
    return { inputs: news, failures };
  },
  async create(inputs: Inputs) {
    // createCa is serialized with this closure and requires its libraries at run time.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const crypto = require("crypto");
    const ca = createCa(inputs.commonName, inputs.validityDays);
    return { id: crypto.randomUUID(), outs: { ...inputs, certPem: ca.certPem, privateKeyPem: ca.privateKeyPem } };
  },
  async diff(_id: string, olds: Inputs, news: Inputs) {
    const replaces = (["commonName", "generation"] as const).filter((k) => olds[k] !== news[k]);
    // validityDays alone does not re-issue: a running fleet's trust must not change on a default's change.
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
};

export class SiteCa extends pulumi.dynamic.Resource {
  declare public readonly certPem: pulumi.Output<string>;
  /** A secret output. */
  declare public readonly privateKeyPem: pulumi.Output<string>;

  constructor(name: string, args: SiteCaArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        commonName: args.commonName,
        validityDays: args.validityDays ?? 3650,
        generation: args.generation ?? 0,
        certPem: undefined,
        privateKeyPem: undefined,
      },
      { ...opts, additionalSecretOutputs: ["privateKeyPem"] },
      "edgefleet",
      "SiteCa",
    );
  }
}
