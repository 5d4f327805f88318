import * as pulumi from "@pulumi/pulumi";

/**
 * A random secret generated once and kept in state, encrypted.
 *
 * Why not `@pulumi/random`: its provider (pulumi-resource-random) cannot be
 * built on this project's machines (the Go module mirror holds no release of
 * github.com/pulumi/pulumi-random/provider; see tools/README.md). This dynamic
 * resource gives the same contract for what Edgefleet needs: a value made at
 * create, stable across updates, replaced only when `keepers` or `length`
 * change, and marked secret so it is encrypted in state and masked in output.
 */
export interface RandomSecretArgs {
  /** Characters of [A-Za-z0-9]: safe in YAML, URLs and shell without quoting. */
  length: number;
  /** Any change here makes a new value (like random's `keepers`). */
  keepers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

interface Inputs {
  length: number;
  keepers?: Record<string, string>;
}

const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: Inputs, news: Inputs) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (!Number.isInteger(news.length) || news.length < 16 || news.length > 256) {
      failures.push({ property: "length", reason: "length must be an integer from 16 to 256" });
    }
    return { inputs: news, failures };
  },
  async create(inputs: Inputs) {
    // Required inside the function: dynamic providers are serialized and run
    // in the engine's provider process, not in this module's scope.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const crypto = require("crypto");
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let result = "";
    while (result.length < inputs.length) {
      // Rejection sampling keeps every character equally likely.
      const byte: number = crypto.randomBytes(1)[0];
      if (byte < 248) result += alphabet[byte % 62];
    }
    return { id: crypto.randomUUID(), outs: { ...inputs, result } };
  },
  async diff(_id: string, olds: Inputs & { result: string }, news: Inputs) {
    const replaces: string[] = [];
    if (olds.length !== news.length) replaces.push("length");
    if (JSON.stringify(olds.keepers ?? {}) !== JSON.stringify(news.keepers ?? {})) replaces.push("keepers");
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
};

export class RandomSecret extends pulumi.dynamic.Resource {
  /** The generated value; a secret output. */
  declare public readonly result: pulumi.Output<string>;

  constructor(name: string, args: RandomSecretArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      { ...args, result: undefined },
      {
        ...opts,
        additionalSecretOutputs: ["result"],
      },
      "edgefleet",
      "RandomSecret",
    );
  }
}
