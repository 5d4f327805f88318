/**
 * From a validated site to the host layer's arguments (infra/): pure, so
 * what each host will be told (its config.yaml, its labels and taints, its
 * kubelet reservations) can be rendered and checked without a cluster, and
 * index.ts declares exactly what was checked.
 */
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import type { HostAccess } from "../infra/connection";
import type { K3sClusterArgs } from "../infra/k3sCluster";
import { simulatedNodeSizeClass } from "./edgeNodes";
import type { HostSpec, SiteSpec, StackSpec } from "./schema";

export function hostAccess(spec: StackSpec, siteIndex: number, hostIndex: number, h: HostSpec): HostAccess {
  return {
    name: h.name,
    site: spec.sites[siteIndex].name,
    address: h.address,
    port: h.port,
    user: h.user,
    hostKey: h.hostKey,
    hostKeyConfigPath: `edgefleet:sites[${siteIndex}].hosts[${hostIndex}].hostKey`,
    bastion: spec.ssh.bastion,
  };
}

export const localArtifact = (root: string, dir: string, a: { file: string; sha256: string }) => ({
  localPath: path.resolve(root, dir, a.file),
  sha256: a.sha256,
});

/** A K3s site's cluster, as index.ts declares it. */
export function k3sClusterArgs(
  spec: StackSpec,
  site: SiteSpec,
  siteIndex: number,
  privateKey: pulumi.Input<string>,
  root: string,
): K3sClusterArgs {
  const k3s = spec.k3s!;
  const a = k3s.artifacts;
  return {
    where: `${spec.stack}/${site.name}`,
    site: site.name,
    profile: site.profile,
    hosts: site.hosts.map((h, hi) => ({
      access: hostAccess(spec, siteIndex, hi, h),
      role: h.role,
      size: h.size.spec,
      labels: h.labels,
      taints: h.taints,
    })),
    privateKey,
    version: k3s.version,
    arch: k3s.arch,
    transport: spec.hostTransport,
    artifacts: {
      k3s: localArtifact(root, a.dir, a.k3s),
      images: { ...localArtifact(root, a.dir, a.images), fileName: a.images.file },
      wasmShim: localArtifact(root, a.dir, a.wasmedgeShim),
    },
    wasm: true,
    serviceMode: site.serviceMode,
    disableAgentOnServers: site.disableAgentOnServers,
    registries: spec.registry,
    agentBatchSize: spec.upgrade.agentBatchSize,
    hostParallelism: spec.hostParallelism,
    agentTokenGeneration: site.agentTokenGeneration,
    acknowledgedServerRemovals: site.acknowledgeServerRemoval,
    acknowledgeServerRemovalPath: `edgefleet:sites[${siteIndex}].acknowledgeServerRemoval`,
    ...etcdSnapshotArgs(spec, site),
  };
}

/**
 * A site's backup block as the cluster takes it: the non-secret keys for
 * config.yaml, and the S3 credentials apart, for the root-only drop-in (plain
 * text here; K3sHost makes them secret before any resource sees them).
 */
export function etcdSnapshotArgs(
  spec: StackSpec,
  site: SiteSpec,
): Pick<K3sClusterArgs, "etcdSnapshots" | "s3Credentials"> {
  const b = site.backup;
  if (!b) return {};
  const s3 = b.s3 && spec.backupS3;
  return {
    etcdSnapshots: {
      scheduleCron: b.schedule,
      retention: b.retention,
      ...(b.compress ? { compress: true } : {}),
      ...(s3 && b.s3
        ? {
            s3: {
              endpoint: s3.endpoint,
              bucket: s3.bucket,
              ...(s3.region ? { region: s3.region } : {}),
              folder: b.s3.folder,
              ...(s3.insecure ? { insecure: true } : {}),
            },
          }
        : {}),
    },
    ...(s3 ? { s3Credentials: { accessKey: s3.accessKey, secretKey: s3.secretKey } } : {}),
  };
}

/** What the simulated-node set of an upstream site registers (infra/simulatedNodes.ts). */
export function simulatedNodesShape(site: SiteSpec): { count: number; sizeClass: "2c4g" | "4c8g"; taints: string[] } {
  return {
    count: site.kwok?.nodes ?? 0,
    sizeClass: site.kwok ? simulatedNodeSizeClass(site.kwok.size) : "4c8g",
    taints: [],
  };
}
