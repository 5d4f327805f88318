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
import * as pulumi from "@pulumi/pulumi";
import type { SiteArgs } from "../components/site";
import { parseImageRef } from "./image";
import { siteNodes } from "./edgeNodes";
import { componentOverrides, DEFAULT_TRACKER_IMAGE, siteConstraintOptions } from "./siteModel";
import { GATEKEEPER_POLICIES, renderConstraints, renderTemplate } from "../policies/gatekeeper/catalog";
import { GATEKEEPER_DIR, readRego } from "../policies/gatekeeper/files";
import { parseAllDocuments } from "yaml";
import type { SiteSpec, StackSpec } from "./schema";

export { DEFAULT_TRACKER_IMAGE, trackerResources } from "./siteModel";

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
    profile: site.profile,
    nodes: siteNodes(site, `edgefleet:sites[${stack.sites.indexOf(site)}]`),
    trackerImage: o.tracker?.image ? parseImageRef(o.tracker.image) : DEFAULT_TRACKER_IMAGE,
    overrides: componentOverrides(site),
    gatekeeper: {
      manifestPath: gatekeeperManifest,
      version: `v${stack.gatekeeper.version}`,
      ...gatekeeperPolicies(site, stack),
    },
    authzPolicyRego: fs.readFileSync(authzPath, "utf8"),
    ephemeralStorage: site.overrides.storage?.ephemeral,
    secrets: stack.hostTransport,
    ...(site.mqtt ? { mqtt: mqttArgs(stack, site) } : {}),
  };
}

/** The site's MQTT settings in the site layer's terms, the stack's secrets wrapped as secrets. */
export function mqttArgs(stack: StackSpec, site: SiteSpec): NonNullable<SiteArgs["mqtt"]> {
  const m = site.mqtt!;
  const given = stack.mqttSecrets?.devicePasswords[site.name] ?? {};
  const ca = m.ca === "stack" ? stack.mqttSecrets?.ca : undefined;
  return {
    plaintext: m.plaintext,
    devices: m.devices.map((d) =>
      d.password === "stack"
        ? { name: d.name, password: pulumi.secret(given[d.name]) }
        : { name: d.name, generation: d.generation },
    ),
    ...(ca ? { ca: { certPem: ca.cert, privateKeyPem: pulumi.secret(ca.key) } } : {}),
    caGeneration: m.caGeneration,
    certificateGeneration: m.certificateGeneration,
    serverNames: m.serverNames,
    // The NodePort answers on every node: the certificate names each host's address.
    addresses: site.hosts.map((h) => h.address),
  };
}
