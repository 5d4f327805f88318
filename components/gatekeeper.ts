import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import { K8sComponentArgs } from "./k8sOptions";
import { manifestObjects } from "./manifestObjects";
import { checkConstraints, GatekeeperTransformArgs, prepareTemplates, transformGatekeeper } from "./render/gatekeeper";

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface GatekeeperArgs extends K8sComponentArgs, GatekeeperTransformArgs {
  /** Upstream deploy/gatekeeper.yaml of the pinned release (see components/README.md). */
  manifestPath: string;
  /** ConstraintTemplates from policies/gatekeeper/<policy>/template.yaml, parsed. */
  templates: Record<string, any>[];
  /** Constraints rendered by policies/ (kinds defined by the templates above). */
  constraints: Record<string, any>[];
  /** ExpansionTemplates (policies/gatekeeper/expansion/): Pod rules judge Deployments and the like too. */
  expansions?: Record<string, any>[];
  /** Wait for each template's Constraint kind (default true; see prepareTemplates). */
  awaitTemplates?: boolean;
}

/**
 * Gatekeeper, transformed for small nodes, then the site's templates and
 * constraints in that order (each set waiting on the previous), declared object
 * by object (components/manifestObjects.ts says why not a ConfigGroup).
 */
export class Gatekeeper extends pulumi.ComponentResource {
  constructor(name: string, args: GatekeeperArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:components:Gatekeeper", name, {}, opts);
    const {
      provider,
      manifestPath,
      templates,
      constraints,
      expansions,
      awaitTemplates,
      ephemeralStorage: _e,
      ...transform
    } = args;
    checkConstraints(constraints, templates);
    const objs = transformGatekeeper(fs.readFileSync(manifestPath, "utf8"), transform);
    const install = manifestObjects(`${name}-install`, objs, { parent: this, provider });
    const tpl = manifestObjects(`${name}-templates`, prepareTemplates(templates, awaitTemplates !== false), {
      parent: this,
      provider,
      dependsOn: install,
    });
    if (expansions?.length) {
      manifestObjects(`${name}-expansions`, expansions, { parent: this, provider, dependsOn: install });
    }
    if (constraints.length) {
      manifestObjects(`${name}-constraints`, constraints, { parent: this, provider, dependsOn: tpl });
    }
    this.registerOutputs({});
  }
}
