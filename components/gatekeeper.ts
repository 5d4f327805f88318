import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import { K8sComponentArgs } from "./k8sOptions";
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
 * constraints in that order (each a ConfigGroup waiting on the previous).
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
    const install = new k8s.yaml.v2.ConfigGroup(`${name}-install`, { objs }, { parent: this, provider });
    const tpl = new k8s.yaml.v2.ConfigGroup(
      `${name}-templates`,
      { objs: prepareTemplates(templates, awaitTemplates !== false) },
      { parent: this, provider, dependsOn: [install] },
    );
    if (expansions?.length) {
      new k8s.yaml.v2.ConfigGroup(
        `${name}-expansions`,
        { objs: expansions },
        { parent: this, provider, dependsOn: [install] },
      );
    }
    if (constraints.length) {
      new k8s.yaml.v2.ConfigGroup(
        `${name}-constraints`,
        { objs: constraints },
        { parent: this, provider, dependsOn: [tpl] },
      );
    }
    this.registerOutputs({});
  }
}
