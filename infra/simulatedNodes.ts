import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import type { HostAccess } from "./connection";
import { hostStep, type HostTransport } from "./hostStep";
import type { ArtifactFile } from "./k3sHost";
import { scriptUploads, UPSTREAM_STAGING } from "./upstreamControlPlane";

export interface SimulatedNodesArgs {
  /** Who carries the host step (edgefleet:hostTransport). */
  transport: HostTransport;
  server: HostAccess;
  privateKey: pulumi.Input<string>;
  site: string;
  profile: string;
  count: number;
  sizeClass: "2c4g" | "4c8g";
  taints?: string[];
  artifacts: { kwok: ArtifactFile; stages: ArtifactFile };
  /** Resources that must exist first (the control plane). */
  after: pulumi.Input<pulumi.Resource>[];
}

/**
 * Edge nodes played by KWOK: Node objects with the size class's capacity and
 * allocatable, the labels of config/edgeNodes.ts's simulatedNodeLabels (they
 * always run trackers) and taints, kept Ready by a supervised kwok process on the server host. Pods
 * scheduled to them are reported Running without running, so Deployments
 * become Available: a stand-in for real agents where containerd cannot run,
 * and for scale tests with more nodes than machines.
 */
export class SimulatedNodes extends pulumi.ComponentResource {
  constructor(name: string, args: SimulatedNodesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:infra:SimulatedNodes", name, {}, opts);
    hostStep(
      `${name}-kwok`,
      {
        transport: args.transport,
        access: args.server,
        privateKey: args.privateKey,
        uploads: [
          {
            localPath: args.artifacts.kwok.localPath,
            remotePath: `${UPSTREAM_STAGING}/bin/kwok`,
            sha256: args.artifacts.kwok.sha256,
            mode: "0755",
          },
          {
            localPath: args.artifacts.stages.localPath,
            remotePath: `${UPSTREAM_STAGING}/bin/kwok-stages.yaml`,
            sha256: args.artifacts.stages.sha256,
          },
          ...scriptUploads(path.join(__dirname, "scripts", "kwok"), `${UPSTREAM_STAGING}/kwok`),
        ],
        create: `bash ${UPSTREAM_STAGING}/kwok/up.sh >&2`,
        delete: `bash ${UPSTREAM_STAGING}/kwok/down.sh >&2 || true`,
        environment: {
          HOST_NAME: args.server.name,
          EF_KWOK_NODES: String(args.count),
          EF_KWOK_SITE: args.site,
          EF_KWOK_PROFILE: args.profile,
          EF_KWOK_SIZE: args.sizeClass,
          EF_KWOK_TAINTS: (args.taints ?? []).join(","),
        },
      },
      { parent: this, dependsOn: args.after },
    );
    this.registerOutputs({});
  }
}
