/**
 * Per-stack policy config (`pulumi preview --policy-pack policies/crossguard
 * --policy-pack-config <file>.json`) and its defaults. Shared rules take the
 * same site options as the Gatekeeper Constraints (gatekeeper/catalog.ts) and
 * turn them into the same parameters, from thresholds.ts.
 */
import { PolicyConfigSchema } from "@pulumi/policy";
import { SIZE_CLASS_NAMES } from "../../config/sizeClasses";
import { SiteConstraintOptions } from "../gatekeeper/catalog";
import { SiteCapacity } from "./rules/capacity";

export const SITE_OPTIONS_SCHEMA: PolicyConfigSchema = {
  properties: {
    sizeClass: { type: "string", enum: SIZE_CLASS_NAMES },
    extraRegistries: { type: "array", items: { type: "string" } },
    extraHostPaths: { type: "array", items: { type: "string" } },
  },
};

export function siteOptions(cfg: Partial<SiteConstraintOptions> | undefined): SiteConstraintOptions {
  return {
    sizeClass: cfg?.sizeClass ?? "2c4g",
    extraRegistries: cfg?.extraRegistries ?? [],
    extraHostPaths: cfg?.extraHostPaths ?? [],
  };
}

export interface EdgeCapacityConfig {
  /** Per site: edge node count and size class. */
  sites?: Record<string, SiteCapacity>;
}

export const EDGE_CAPACITY_SCHEMA: PolicyConfigSchema = {
  properties: {
    sites: {
      type: "object",
      additionalProperties: {
        type: "object",
        properties: {
          edgeNodes: { type: "integer", minimum: 0 },
          sizeClass: { type: "string", enum: SIZE_CLASS_NAMES },
        },
        required: ["edgeNodes", "sizeClass"],
      },
    },
  },
};

export interface HaServersConfig {
  servers?: number;
}

export const HA_SERVERS_SCHEMA: PolicyConfigSchema = { properties: { servers: { type: "integer" } } };
