import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import type { HostAccess } from "./connection";
import { hostStep, type HostStep, type HostTransport } from "./hostStep";
import { hostScript } from "./scripts";
import type { HostTokenFiles } from "./render/joinTokens";
import { renderK3sConfig, renderKubeletSysctls, type K3sConfigArgs, type NodeRole } from "./render/k3sConfig";
import { renderRegistries, type RegistriesArgs } from "./render/registries";
import { renderHostDirectories, type HostDirectory } from "./render/hostDirs";
import { renderEnvFile, renderSupervisor, renderSystemdUnit, type ServiceMode } from "./render/service";
import { resolveSize, type SizeSpec } from "./render/size";
import { STAGING_DIR } from "./stageStep";

export interface ArtifactFile {
  /** Path on the machine running Pulumi (the air-gap artifacts folder). */
  localPath: string;
  sha256: string;
}

export interface K3sArtifacts {
  k3s: ArtifactFile;
  /** The images tarball; its file name is kept on the host (K3s picks the format by extension). */
  images: ArtifactFile & { fileName: string };
  /** containerd-shim-wasmedge-v1; absent when the site runs no Wasm. */
  wasmShim?: ArtifactFile;
}

export interface K3sHostArgs {
  /** Who carries the host steps (edgefleet:hostTransport). */
  transport: HostTransport;
  access: HostAccess;
  privateKey: pulumi.Input<string>;
  /** config.yaml for this host, minus nothing: the token goes to the token file. */
  config: K3sConfigArgs;
  /** The K3s version the artifacts are, e.g. v1.34.2+k3s1. */
  version: string;
  artifacts: K3sArtifacts;
  /** What token-file and (servers) agent-token-file hold (infra/clusterTokens.ts hostTokenFiles); secret. */
  tokens: pulumi.Input<HostTokenFiles>;
  /** Changes when a token file's content changes for a new agent token: the service restarts on it. */
  tokenEpoch: string;
  /**
   * Servers uploading etcd snapshots to S3 (config.etcdSnapshots.s3): the
   * credentials configure.sh writes to the root-only drop-in; secret.
   * @default none
   */
  s3Credentials?: pulumi.Input<S3Credentials>;
  registries?: RegistriesArgs;
  serviceMode: ServiceMode;
  /** Directories the node's workloads mount (hostPath), made by the install (workloadHostDirectories). */
  hostDirectories?: HostDirectory[];
  /**
   * This host's staging step (infra/stageStep.ts), which waits for the
   * preflight of every host of the site to pass the site-wide checks
   * (uniqueHostnames): the install waits for it, so no host is changed
   * unless every host passed, and finds its artifacts in place.
   */
  staged: pulumi.Resource;
  /**
   * A server of the same cluster that stays, from which readiness is checked
   * and, on removal, this node is drained. Servers may pass themselves.
   */
  controller: HostAccess;
  /** Wait for the Node to be Ready at `version` (not for control-plane-only servers, which have no Node). */
  waitReady: boolean;
  readyTimeoutSeconds?: number;
  /**
   * Servers only: the API URLs of the site's other servers, through which
   * this server's Node is deleted on removal so that K3s removes its etcd
   * member (scripts/leave.sh). Recorded at each `up`: a removal uses the
   * peers of the last `up` that still declared this server.
   */
  peerApiUrls?: string[];
  /** How long a removal waits for K3s to remove the etcd member. @default 300 */
  leaveTimeoutSeconds?: number;
}

export interface S3Credentials {
  accessKey: string;
  secretKey: string;
}

export interface PreflightArgs {
  transport: HostTransport;
  access: HostAccess;
  privateKey: pulumi.Input<string>;
  role: NodeRole;
  /** The declared size the host must have. */
  size: SizeSpec;
  /** Hostnames of the site's other hosts (unique hostnames). */
  otherHostnames: string[];
  /** The architecture the K3s artifacts are for; a host of another is refused. */
  expectedArch: string;
}

/** `pulumi refresh`'s read of a step's files on the host (infra/scripts/observe.sh). */
const observeScript = (step: "install" | "configure" | "service") =>
  `export OBSERVE_STEP=${step}\n${hostScript("observe")}`;

/**
 * Can this host run K3s as declared: architecture, cgroup v2, CPU and memory
 * against its size, free ports, a hostname no other host of the site has, and
 * its clock against the controller's? Changes nothing on the host; a failure
 * is one line naming the host and every failed check (scripts/preflight.sh).
 * Not part of K3sHost: K3sCluster runs it for every host of a site before any
 * host's install, which a per-host chain ordered host after host could not.
 */
export function preflightStep(name: string, args: PreflightArgs, opts?: pulumi.CustomResourceOptions): HostStep {
  const size = resolveSize(args.size);
  return hostStep(
    name,
    {
      transport: args.transport,
      access: args.access,
      privateKey: args.privateKey,
      // The controller's clock is taken when the step runs, not at preview:
      // an input that changed on every run would re-run the step every time.
      create: `export REFERENCE_EPOCH="$EDGEFLEET_CONTROLLER_EPOCH"\n${hostScript("preflight")}`,
      environment: {
        HOST_NAME: args.access.name,
        ROLE: args.role,
        MIN_CPU_MILLIS: String(size.capacity.cpuMillis),
        MIN_MEMORY_MIB: String(size.capacity.memoryMiB),
        OTHER_HOSTNAMES: args.otherHostnames.join(" "),
        EXPECTED_ARCH: args.expectedArch,
      },
      // Its EDGEFLEET_RESULT line carries the host's real hostname (uniqueHostnames).
      captureStdout: true,
      // It reads the host: it waits for another run's change of it (and
      // refuses, naming that run, if the change goes on), so a second run
      // stops here, before it changes any host of the site.
      lock: "shared",
    },
    opts,
  );
}

/**
 * The hosts' real hostnames, from their preflight results, must differ
 * within a site: each preflight sees only its own host, so this is checked
 * once all have run, before any install (which waits on the result). Nodes
 * register under their inventory names (node-name), but a site whose boxes
 * were cloned with one hostname still mixes them up in journald, kubelet
 * certificates' SANs and every tool that names a host by `hostname`.
 */
export function uniqueHostnames(where: string, names: string[], stdouts: (string | undefined)[]): void {
  const seen = new Map<string, string>();
  const clashes: string[] = [];
  stdouts.forEach((out, i) => {
    const line = (out ?? "").split("\n").find((l) => l.startsWith("EDGEFLEET_RESULT "));
    if (!line) return;
    const hostname = String(
      (JSON.parse(line.slice("EDGEFLEET_RESULT ".length)) as { hostname?: unknown }).hostname ?? "",
    );
    if (!hostname) return;
    const key = hostname.toLowerCase();
    const first = seen.get(key);
    if (first) clashes.push(`${first} and ${names[i]} both have hostname ${hostname}`);
    else seen.set(key, names[i]);
  });
  if (clashes.length > 0) {
    throw new pulumi.RunError(
      `${where}: ${clashes.join("; ")}; nothing was installed. Fix: give each host of the site its own hostname (hostnamectl set-hostname <name>, for example its inventory name) and run again.`,
    );
  }
}

/**
 * K3s on one host, once the site's preflight passed: checksummed air-gapped
 * install, config, the service, and readiness. Each step is a HostCommand
 * that runs only when its inputs change, so an unchanged `pulumi up` opens no
 * SSH session. Removing the host from the inventory drains its node (from
 * `controller`); an agent's Node is then deleted from there, a server leaves
 * the cluster from itself (its etcd member goes with its Node, through a
 * server that stays: scripts/leave.sh); then K3s is uninstalled.
 */
export class K3sHost extends pulumi.ComponentResource {
  /** Completes when the host runs K3s at `version` (and its node is Ready, if waited for). */
  public readonly ready: pulumi.Output<string>;

  constructor(name: string, args: K3sHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:infra:K3sHost", name, {}, opts);
    const via = { transport: args.transport, access: args.access, privateKey: args.privateKey };
    const host = args.access.name;

    const hostDirs = renderHostDirectories(args.hostDirectories ?? []);
    const install = hostStep(
      `${name}-install`,
      {
        ...via,
        create: hostScript("install"),
        delete: hostScript("uninstall"),
        observe: observeScript("install"),
        environment: {
          // Only when set: a new key would re-run the install on every existing host.
          ...(hostDirs ? { HOST_DIRS: hostDirs } : {}),
          HOST_NAME: host,
          K3S_SHA256: args.artifacts.k3s.sha256,
          IMAGES_FILE: args.artifacts.images.fileName,
          IMAGES_SHA256: args.artifacts.images.sha256,
          WASM_SHIM_SHA256: args.artifacts.wasmShim?.sha256 ?? "",
          STAGING_DIR,
          // Staged files become hard links to the installed ones (install.sh's
          // default), so an upgrade re-sends only what changed, at no disk cost.
          STAGING_MODE: "link",
        },
      },
      { parent: this, dependsOn: [args.staged] },
    );

    const configYaml = renderK3sConfig(args.config);
    const s3 = !!args.config.etcdSnapshots?.s3;
    if (s3 !== (args.s3Credentials !== undefined)) {
      throw new Error(
        `${host}: etcd snapshots to S3 and S3 credentials go together (config.etcdSnapshots.s3 ${s3 ? "is set" : "is not set"}, s3Credentials ${s3 ? "are not" : "are"})`,
      );
    }
    const s3Credentials = args.s3Credentials ? pulumi.secret(args.s3Credentials) : undefined;
    const registriesYaml = args.registries ? renderRegistries(args.registries) : "";
    const configure = hostStep(
      `${name}-configure`,
      {
        ...via,
        create: hostScript("configure"),
        observe: observeScript("configure"),
        environment: {
          HOST_NAME: host,
          CONFIG_YAML: configYaml,
          REGISTRIES_YAML: registriesYaml,
          SYSCTL_CONF: args.config.protectKernelDefaults === false ? "" : renderKubeletSysctls(),
        },
        secretEnvironment: pulumi.all([args.tokens, s3Credentials]).apply(([t, c]) => ({
          EDGEFLEET_TOKEN: t.token,
          ...(t.agentToken !== undefined ? { EDGEFLEET_AGENT_TOKEN: t.agentToken } : {}),
          ...(c ? { EDGEFLEET_S3_ACCESS_KEY: c.accessKey, EDGEFLEET_S3_SECRET_KEY: c.secretKey } : {}),
        })),
      },
      { parent: this, dependsOn: [install] },
    );

    // service.sh restarts K3s only when a file it reads changed; this digest
    // makes Pulumi re-run it exactly when one of those inputs changed.
    const applied = crypto
      .createHash("sha256")
      .update(
        JSON.stringify([
          args.version,
          args.artifacts.k3s.sha256,
          args.artifacts.wasmShim?.sha256 ?? "",
          configYaml,
          registriesYaml,
          args.tokenEpoch,
        ]),
      )
      .digest("hex");
    const service = hostStep(
      `${name}-service`,
      {
        ...via,
        create: hostScript("service"),
        observe: observeScript("service"),
        environment: {
          HOST_NAME: host,
          ROLE: args.config.role,
          SERVICE_MODE: args.serviceMode,
          UNIT_CONTENT: args.serviceMode === "systemd" ? renderSystemdUnit({ role: args.config.role }) : "",
          ENV_CONTENT: renderEnvFile({}),
          SUPERVISOR_CONTENT: args.serviceMode === "supervise" ? renderSupervisor({ role: args.config.role }) : "",
          EDGEFLEET_APPLIED: applied,
        },
        // New S3 credentials change no plain input, yet K3s reads them only at
        // start: their digest, kept secret in state, re-runs the step, and
        // service.sh restarts K3s because the drop-in's fingerprint changed.
        ...(s3Credentials
          ? {
              secretEnvironment: s3Credentials.apply((c) => ({
                EDGEFLEET_S3_APPLIED: crypto
                  .createHash("sha256")
                  .update(JSON.stringify([c.accessKey, c.secretKey]))
                  .digest("hex"),
              })),
            }
          : {}),
      },
      { parent: this, dependsOn: [configure] },
    );

    // Servers only. Deleted after the drain and before the uninstall (steps
    // are deleted in reverse order of their dependencies): K3s stopped here,
    // the Node deleted through a server that stays, and the wait until K3s's
    // etcd controller has let it go, i.e. removed the member. Its create
    // changes nothing; it runs again only when the peers change.
    let last: HostStep = service;
    if (args.config.role === "server") {
      last = hostStep(
        `${name}-leave`,
        {
          ...via,
          create: `export LEAVE_ACTION=arm\n${hostScript("leave")}`,
          delete: hostScript("leave"),
          environment: {
            HOST_NAME: host,
            NODE_NAME: args.config.nodeName,
            PEER_URLS: (args.peerApiUrls ?? []).join(" "),
            TIMEOUT_SECONDS: String(args.leaveTimeoutSeconds ?? 300),
          },
        },
        { parent: this, dependsOn: [service] },
      );
    }

    if (args.waitReady) {
      const node = args.config.nodeName;
      last = hostStep(
        `${name}-ready`,
        {
          ...via,
          access: args.controller,
          create: hostScript("wait-ready"),
          // Removal: drain from a server that stays, before this host leaves
          // and is uninstalled. An agent's Node is deleted here too; a
          // server's stays for leave.sh, whose deletion removes its etcd
          // member and must wait until K3s on it is stopped.
          delete: hostScript("drain"),
          // It runs on the controller server for this node, side by side with
          // the other nodes' readiness and drains, and changes nothing of
          // that server: no lock, or they would queue behind each other.
          lock: "none",
          environment: {
            HOST_NAME: args.controller.name,
            NODE_NAME: node,
            EXPECTED_VERSION: args.version,
            TIMEOUT_SECONDS: String(args.readyTimeoutSeconds ?? 300),
            EDGEFLEET_APPLIED: applied,
            // Only on servers: a new key would re-run every agent's readiness check.
            ...(args.config.role === "server" ? { DELETE_NODE: "0" } : {}),
          },
        },
        { parent: this, dependsOn: [last] },
      );
    }

    this.ready = pulumi.all([last.id]).apply(([id]) => id);
    this.registerOutputs({ ready: this.ready });
  }
}
