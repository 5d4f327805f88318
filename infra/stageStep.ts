import type * as pulumi from "@pulumi/pulumi";
import type { HostAccess } from "./connection";
import { hostStep, type HostStep, type HostTransport, type HostUpload } from "./hostStep";
import type { K3sArtifacts } from "./k3sHost";

/** Where a host's artifacts wait for install.sh, which links or moves them into place. */
export const STAGING_DIR = "/var/lib/edgefleet/staging";

/** The uploads a K3s host needs, at their staging paths. */
export function k3sUploads(artifacts: K3sArtifacts): HostUpload[] {
  const uploads: HostUpload[] = [
    {
      localPath: artifacts.k3s.localPath,
      remotePath: `${STAGING_DIR}/k3s`,
      sha256: artifacts.k3s.sha256,
      mode: "0755",
    },
    {
      localPath: artifacts.images.localPath,
      remotePath: `${STAGING_DIR}/${artifacts.images.fileName}`,
      sha256: artifacts.images.sha256,
    },
  ];
  if (artifacts.wasmShim) {
    uploads.push({
      localPath: artifacts.wasmShim.localPath,
      remotePath: `${STAGING_DIR}/containerd-shim-wasmedge-v1`,
      sha256: artifacts.wasmShim.sha256,
      mode: "0755",
    });
  }
  return uploads;
}

/**
 * Which earlier item each item waits for so that at most `width` run at
 * once: item i follows item i - width (its lane), and lanes never wait for
 * each other, so one slow host holds up only the hosts behind it in its lane.
 */
export function laneOf<T>(items: T[], i: number, width: number): T | undefined {
  if (!Number.isInteger(width) || width < 1) throw new Error(`parallelism must be a whole number >= 1, got ${width}`);
  return i >= width ? items[i - width] : undefined;
}

export interface StageArgs {
  transport: HostTransport;
  access: HostAccess;
  privateKey: pulumi.Input<string>;
  artifacts: K3sArtifacts;
}

/**
 * The artifacts onto one host, before and apart from its install: the
 * uploads are the slow part of a fresh site (hundreds of MB per host), and
 * the install chain goes host after host, so staging inside it would make a
 * site's upload time the sum of its hosts'. Staged here, they go side by side
 * (K3sCluster lanes them by edgefleet:hostParallelism). Both transports check
 * each file's sha256 on the host; an unchanged file is not sent again.
 */
export function stageStep(name: string, args: StageArgs, opts?: pulumi.CustomResourceOptions): HostStep {
  return hostStep(
    name,
    {
      transport: args.transport,
      access: args.access,
      privateKey: args.privateKey,
      uploads: k3sUploads(args.artifacts),
      // The transport has checked every upload by the time this runs; install.sh checks them again before use.
      create: "exit 0",
    },
    opts,
  );
}
