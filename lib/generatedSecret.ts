import * as random from "@pulumi/random";
import * as pulumi from "@pulumi/pulumi";
import type { HostTransport } from "../config/schema";
import { RandomSecret } from "./randomSecret";

/**
 * A generated secret (a join token, a service password), kept in state
 * encrypted, from the same switch as the host steps (edgefleet:hostTransport):
 * `@pulumi/random`'s RandomPassword with the standard transport, the built-in
 * RandomSecret where no plugin can be installed. Letters and digits only in
 * both: safe in YAML, URLs and shell without quoting. A change of `keepers`
 * makes a new value (both resources' keepers), which is how a secret is
 * rotated; without keepers the inputs are what they always were, so an
 * existing secret keeps its value.
 */
export function generatedSecret(
  source: HostTransport,
  name: string,
  length: number,
  opts: pulumi.CustomResourceOptions = {},
  keepers?: Record<string, string>,
): pulumi.Output<string> {
  if (source === "openssh") return new RandomSecret(name, { length, ...(keepers ? { keepers } : {}) }, opts).result;
  return new random.RandomPassword(name, { length, special: false, ...(keepers ? { keepers } : {}) }, opts).result;
}
