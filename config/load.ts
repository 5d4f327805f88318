/**
 * The program's entry to the config: the engine's config and secret keys,
 * through validate(). Call it before constructing any resource so that an
 * invalid stack creates nothing.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { checkConfigSize } from "./configSize";
import type { StackSpec } from "./schema";
import { validateStack } from "./inventory";
import { ConfigError } from "./validate";

/** The secret keys the engine passed (PULUMI_CONFIG_SECRET_KEYS), through the SDK's own reader where it exposes one. */
function secretKeys(all: Record<string, string>): Set<string> {
  const isSecret = (runtimeConfig as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
  if (typeof isSecret === "function") return new Set(Object.keys(all).filter((k) => isSecret(k)));
  const env = process.env.PULUMI_CONFIG_SECRET_KEYS ?? "[]";
  const parsed: unknown = JSON.parse(env);
  return new Set(Array.isArray(parsed) ? parsed.filter((k): k is string => typeof k === "string") : []);
}

/**
 * The validated stack. A ConfigError leaves as a RunError, which the SDK
 * prints as its message alone: the operator gets the list of problems with
 * their keys and fixes, not a stack trace and an object dump.
 */
export function loadStackSpec(): StackSpec {
  const all = pulumi.runtime.allConfig();
  let spec: StackSpec;
  try {
    // Inventory files are named relative to the project folder, where the engine runs the program.
    const read = (file: string) => fs.readFileSync(path.resolve(process.cwd(), file), "utf8");
    spec = validateStack(pulumi.getStack(), all, secretKeys(all), read);
  } catch (e) {
    if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
    throw e;
  }
  // Past the ceiling the program never starts, so only the warning can be said here.
  // allConfig() is the engine's own key -> string map, so it sizes as it was passed.
  const size = checkConfigSize(pulumi.getStack(), all);
  if (size) void pulumi.log.warn(size.message);
  return spec;
}
