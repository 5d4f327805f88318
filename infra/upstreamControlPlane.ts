import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { HostAccess } from "./connection";
import { hostStep, type HostTransport, type HostUpload } from "./hostStep";
import type { ArtifactFile } from "./k3sHost";

/** The binaries of the upstream control plane, by name, from the artifacts folder. */
export type UpstreamArtifacts = Record<
  "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kubectl",
  ArtifactFile
>;

export interface UpstreamControlPlaneArgs {
  where: string;
  /** Who carries the host steps (edgefleet:hostTransport). */
  transport: HostTransport;
  server: HostAccess;
  privateKey: pulumi.Input<string>;
  version: string;
  artifacts: UpstreamArtifacts;
  readyTimeoutSeconds?: number;
}

export const UPSTREAM_STAGING = "/var/lib/edgefleet/staging/upstream";
const SCRIPTS = path.join(__dirname, "scripts", "upstream");

function sha256(file: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** Uploads of a folder of host scripts (checksummed here, verified on the host). */
export function scriptUploads(dir: string, remoteDir: string): HostUpload[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".sh"))
    .sort()
    .map((f) => ({
      localPath: path.join(dir, f),
      remotePath: `${remoteDir}/${f}`,
      sha256: sha256(path.join(dir, f)),
      mode: "0755",
    }));
}

/**
 * A site's control plane from upstream Kubernetes (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler) on one server host, supervised,
 * for stacks whose config chooses `distribution: upstream` — hosts that cannot
 * run K3s's agent, or a place where no K3s build is at hand. Same contract as
 * K3sCluster: checksummed air-gapped artifacts, idempotent host scripts, a
 * secret kubeconfig and a provider; `destroy` leaves the host clean.
 */
export class UpstreamControlPlane extends pulumi.ComponentResource {
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly provider: k8s.Provider;
  public readonly apiServerUrl: string;
  /** Completes when the API server answers /readyz. */
  public readonly ready: pulumi.Output<string>;

  constructor(name: string, args: UpstreamControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:infra:UpstreamControlPlane", name, {}, opts);
    const via = { transport: args.transport, access: args.server, privateKey: args.privateKey };
    this.apiServerUrl = `https://${args.server.address}:6443`;

    const uploads: HostUpload[] = [
      ...Object.entries(args.artifacts).map(([bin, a]) => ({
        localPath: a.localPath,
        remotePath: `${UPSTREAM_STAGING}/bin/${bin}`,
        sha256: a.sha256,
        mode: "0755",
      })),
      ...scriptUploads(SCRIPTS, `${UPSTREAM_STAGING}/controlplane`),
    ];
    const install = hostStep(
      `${name}-controlplane`,
      {
        ...via,
        uploads,
        create: `bash ${UPSTREAM_STAGING}/controlplane/up.sh >&2`,
        // Staging last, and its parent if nothing else staged there: destroy leaves no trace.
        delete: `bash /usr/local/lib/edgefleet-lab/down.sh >&2 || true\nrm -rf ${UPSTREAM_STAGING}\nrmdir ${path.posix.dirname(UPSTREAM_STAGING)} 2>/dev/null || true`,
        environment: {
          HOST_NAME: args.server.name,
          EF_CP_ADDRESS: args.server.address,
          EF_CP_READY_TIMEOUT: String(args.readyTimeoutSeconds ?? 300),
          EDGEFLEET_VERSION: args.version,
        },
      },
      { parent: this },
    );

    const fetch = hostStep(
      `${name}-kubeconfig`,
      {
        ...via,
        create: "cat /etc/kubernetes/admin.kubeconfig",
        // A read: it waits for a change of the server under way, not for readers.
        lock: "shared",
        captureStdout: true,
        secretStdout: true,
        triggers: [args.version],
      },
      { parent: this, dependsOn: [install] },
    );

    this.kubeconfig = pulumi.secret(
      fetch.stdout.apply((s) => {
        if (!s || !s.includes("clusters:")) {
          throw new Error(
            `${args.where}: ${args.server.name} returned no kubeconfig at /etc/kubernetes/admin.kubeconfig`,
          );
        }
        return s;
      }),
    );
    this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig }, { parent: this });
    this.ready = install.id;
    this.registerOutputs({ kubeconfig: this.kubeconfig, apiServerUrl: this.apiServerUrl });
  }
}
