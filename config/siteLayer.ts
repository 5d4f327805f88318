/**
 * From a validated site of the stack config to the site layer's arguments:
 * profile, edge node count, tracker image, the operator's overrides in the
 * components' terms, and the site's Gatekeeper policies and authz Rego from
 * policies/. Pure apart from reading policy files and the Gatekeeper manifest
 * path from the environment.
 */
import * as fs from "fs";
import * as path from "path";
import type * as k8s from "@pulumi/kubernetes";
import type { SiteArgs } from "../components/site";
import type { ImageRef } from "../components/render/common";
import { siteNodes } from "./edgeNodes";
import { SITE_LAYER_PROFILE } from "./profiles";
import { componentOverrides, DEFAULT_TRACKER_IMAGE, siteConstraintOptions } from "./siteModel";
import { GATEKEEPER_POLICIES, renderConstraints, renderTemplate } from "../policies/gatekeeper/catalog";
import { GATEKEEPER_DIR, readRego } from "../policies/gatekeeper/files";
import { parseAllDocuments } from "yaml";
import type { SiteSpec, StackSpec } from "./schema";

export { DEFAULT_TRACKER_IMAGE, trackerResources } from "./siteModel";

export function parseImage(image: string): ImageRef {
  const at = image.indexOf("@");
  const refPart = at >= 0 ? image.slice(0, at) : image;
  const slash = refPart.indexOf("/");
  if (slash < 0) throw new Error(`image ${image} names no registry; write registry/repository:tag`);
  const registry = refPart.slice(0, slash);
  let repository = refPart.slice(slash + 1);
  let tag: string | undefined;
  const colon = repository.lastIndexOf(":");
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
  }
  return at >= 0 ? { registry, repository, digest: image.slice(at + 1) } : { registry, repository, tag };
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export function gatekeeperPolicies(
  site: SiteSpec,
  stack: StackSpec,
): {
  templates: Record<string, any>[];
  constraints: Record<string, any>[];
  expansions: Record<string, any>[];
  awaitTemplates: boolean;
} {
  const options = siteConstraintOptions(site, siteNodes(site, site.name), stack.allowedRegistries);
  const enforce = site.overrides.gatekeeper?.constraints !== false;
  const expansions = parseAllDocuments(
    fs.readFileSync(path.join(GATEKEEPER_DIR, "expansion", "expansion.yaml"), "utf8"),
  )
    .map((d) => d.toJS() as Record<string, any>)
    .filter((d) => d && d.kind);
  return {
    templates: GATEKEEPER_POLICIES.map((p) => renderTemplate(p, readRego(p.dir)) as Record<string, any>),
    constraints: enforce ? (renderConstraints(options) as Record<string, any>[]) : [],
    expansions,
    awaitTemplates: enforce,
  };
}

/**
 * The site layer's arguments for one site of a validated stack.
 * `gatekeeperManifest` is the local path of the stack's Gatekeeper release
 * manifest, already checked against its pin (ensurePinnedArtifact).
 */
export function siteLayerArgs(
  stack: StackSpec,
  site: SiteSpec,
  provider: k8s.Provider,
  gatekeeperManifest: string,
): SiteArgs {
  const o = site.overrides;
  const authzPath = path.join(__dirname, "..", "policies", "authz", "src.rego");
  return {
    provider,
    site: site.name,
    profile: SITE_LAYER_PROFILE[site.profile],
    nodes: siteNodes(site, `edgefleet:sites[${stack.sites.indexOf(site)}]`),
    trackerImage: o.tracker?.image ? parseImage(o.tracker.image) : DEFAULT_TRACKER_IMAGE,
    overrides: componentOverrides(site),
    gatekeeper: {
      manifestPath: gatekeeperManifest,
      version: `v${stack.gatekeeper.version}`,
      ...gatekeeperPolicies(site, stack),
    },
    authzPolicyRego: fs.readFileSync(authzPath, "utf8"),
    ephemeralStorage: site.overrides.storage?.ephemeral,
  };
}
