/**
 * Per-stack policy config (`pulumi preview --policy-pack policies/crossguard
 * --policy-pack-config <file>.json`) and its defaults. Shared rules take the
 * same site options as the Gatekeeper Constraints (gatekeeper/catalog.ts) and
 * turn them into the same parameters, from thresholds.ts.
 */
import type { PolicyConfigSchema } from "@pulumi/policy";
import { SIZE_CLASS_NAMES, type SizeClassName } from "../../config/sizeClasses";
import type { HostPathOption, SiteConstraintOptions } from "../gatekeeper/catalog";
import type { SiteCapacity } from "./rules/capacity";

/** What a shared policy's config may say, stack-wide or for one site. */
export interface SiteOptionsValues {
  sizeClass?: SizeClassName;
  extraRegistries?: string[];
  /** `{pathPrefix, readOnly}` entries; a plain string is a writable entry. */
  extraHostPaths?: HostPathOption[];
}

export interface SiteOptionsConfig extends SiteOptionsValues {
  /**
   * Per site, over the stack-wide values: a stack's sites may have different
   * profiles, and each site's Constraints get their own parameters. A
   * workload's site is the one named like its Kubernetes provider (siteOf).
   */
  sites?: Record<string, SiteOptionsValues>;
}

const SITE_OPTION_PROPERTIES: PolicyConfigSchema["properties"] = {
  sizeClass: { type: "string", enum: SIZE_CLASS_NAMES },
  extraRegistries: { type: "array", items: { type: "string" } },
  extraHostPaths: {
    type: "array",
    items: {
      // JSON Schema applies the object keywords to objects only, so a string passes as is.
      type: ["string", "object"],
      properties: { pathPrefix: { type: "string" }, readOnly: { type: "boolean" } },
      required: ["pathPrefix", "readOnly"],
      additionalProperties: false,
    },
  },
};

export const SITE_OPTIONS_SCHEMA: PolicyConfigSchema = {
  properties: {
    ...SITE_OPTION_PROPERTIES,
    sites: { type: "object", additionalProperties: { type: "object", properties: SITE_OPTION_PROPERTIES } },
  },
};

/** The options a site's Constraints are rendered with, from a shared policy's config (`site` picks its `sites` entry). */
export function siteOptions(cfg: SiteOptionsConfig | undefined, site?: string): SiteConstraintOptions {
  const own = site === undefined ? undefined : cfg?.sites?.[site];
  return {
    sizeClass: own?.sizeClass ?? cfg?.sizeClass ?? "2c4g",
    extraRegistries: own?.extraRegistries ?? cfg?.extraRegistries ?? [],
    extraHostPaths: own?.extraHostPaths ?? cfg?.extraHostPaths ?? [],
  };
}

export interface EdgeCapacityConfig {
  /** Per site: its nodes, grouped (rules/capacity.ts nodeGroups). */
  sites?: Record<string, SiteCapacity>;
}

export const EDGE_CAPACITY_SCHEMA: PolicyConfigSchema = {
  properties: {
    sites: {
      type: "object",
      additionalProperties: {
        type: "object",
        properties: {
          nodes: {
            type: "array",
            items: {
              type: "object",
              properties: {
                count: { type: "integer", minimum: 1 },
                labels: { type: "object", additionalProperties: { type: "string" } },
                taints: {
                  type: "array",
                  items: {
                    type: "object",
                    properties: { key: { type: "string" }, value: { type: "string" }, effect: { type: "string" } },
                    required: ["key", "effect"],
                  },
                },
                allocatable: {
                  type: "object",
                  properties: { cpuMillis: { type: "number", minimum: 0 }, memoryMiB: { type: "number", minimum: 0 } },
                  required: ["cpuMillis", "memoryMiB"],
                },
              },
              required: ["count", "labels", "taints", "allocatable"],
            },
          },
        },
        required: ["nodes"],
      },
    },
  },
};

export interface HaServersConfig {
  servers?: number;
}

export const HA_SERVERS_SCHEMA: PolicyConfigSchema = { properties: { servers: { type: "integer" } } };
