import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { hostRunsTrackers, type NodeRuleSite } from "../config/edgeNodes";
import { k3sServerCount } from "../config/k3sDatastore";
import { DEFAULT_HOST_PARALLELISM } from "../config/schema";
import type { ProfileName } from "../config/profiles";
import type { HostAccess } from "./connection";
import { caHashFrom, caHashStep, hostTokenFiles, saveBootstrapStep, siteTokens } from "./clusterTokens";
import { hostStep, type HostStep, type HostTransport } from "./hostStep";
import { K3sHost, preflightStep, uniqueHostnames, type K3sArtifacts, type S3Credentials } from "./k3sHost";
import { workloadHostDirectories } from "./render/hostDirs";
import {
  DEFAULT_TOKEN_FILE,
  nodeLabels,
  type EtcdSnapshotArgs,
  type K3sConfigArgs,
  type NodeTaint,
} from "./render/k3sConfig";
import type { RegistriesArgs } from "./render/registries";
import type { ServiceMode } from "./render/service";
import type { SizeSpec } from "./render/size";
import { upgradePlan } from "./render/upgrade";
import { laneOf, stageStep } from "./stageStep";
import { ServerSetGuard } from "./serverSetGuard";
import { VersionGuard } from "./versionGuard";

export interface ClusterHost {
  access: HostAccess;
  role: "server" | "agent";
  size: SizeSpec;
  labels?: Record<string, string>;
  taints?: NodeTaint[];
}

export interface K3sClusterArgs {
  /** `<stack>/<site>`, for messages. */
  where: string;
  site: string;
  profile: ProfileName;
  /** In inventory order; the first server bootstraps the cluster. */
  hosts: ClusterHost[];
  privateKey: pulumi.Input<string>;
  version: string;
  /** The architecture of the artifacts (edgefleet:k3s.arch). */
  arch: string;
  /** Who carries host steps and makes the join token (edgefleet:hostTransport). */
  transport: HostTransport;
  artifacts: K3sArtifacts;
  wasm: boolean;
  serviceMode: ServiceMode;
  /** Servers run the control plane only (no kubelet): the lab's servers. @default false */
  disableAgentOnServers?: boolean;
  /** registries.yaml mirrors. @default none (no registries.yaml; images pulled from their registries) */
  registries?: RegistriesArgs;
  /** Agents upgraded (and installed) at once; servers always go one by one. */
  agentBatchSize: number;
  /** Extra disabled packaged components, on top of the profile's k3sDisable. @default [] */
  disable?: string[];
  /**
   * Hosts whose preflight and staging run at once (edgefleet:hostParallelism);
   * the install chain keeps its upgrade order. @default DEFAULT_HOST_PARALLELISM (30)
   */
  hostParallelism?: number;
  /** Raise by one to rotate the site's agent token (infra/clusterTokens.ts). @default 0 */
  agentTokenGeneration?: number;
  /**
   * Servers whose removal the stack acknowledges, past what ServerSetGuard
   * lets one change remove (edgefleet:sites[i].acknowledgeServerRemoval). @default []
   */
  acknowledgedServerRemovals?: string[];
  /** That key's path, for the guard's fix. @default "acknowledgeServerRemoval" */
  acknowledgeServerRemovalPath?: string;
  /**
   * Scheduled etcd snapshots on every server; embedded-etcd sites only
   * (config/k3sDatastore.ts). @default none (K3s's own defaults)
   */
  etcdSnapshots?: EtcdSnapshotArgs;
  /** With etcdSnapshots.s3: the S3 credentials, written to each server's root-only drop-in; secret. */
  s3Credentials?: pulumi.Input<S3Credentials>;
}

/** The first server's API endpoint; an IPv6 literal goes in brackets, or the port would read as part of it. */
export function apiServerUrlOf(address: string): string {
  return `https://${address.includes(":") ? `[${address}]` : address}:6443`;
}

/** The edge-node rule's view of the cluster: a K3s site, no simulated nodes. */
function nodeRule(args: Pick<K3sClusterArgs, "hosts" | "disableAgentOnServers">): NodeRuleSite {
  return {
    distribution: "k3s",
    disableAgentOnServers: !!args.disableAgentOnServers,
    hosts: args.hosts,
    kwokNodes: 0,
  };
}

/**
 * Each host's config.yaml args, by host name: pure, so what a host registers
 * with (labels, taints, kubelet reservations) can be checked without a
 * cluster (test/unit/config/trackersSchedule.test.ts).
 */
export function k3sHostConfigs(
  args: Pick<
    K3sClusterArgs,
    "site" | "profile" | "hosts" | "wasm" | "disableAgentOnServers" | "disable" | "etcdSnapshots"
  > & { where?: string },
): Map<string, K3sConfigArgs> {
  const servers = args.hosts.filter((h) => h.role === "server");
  const first = servers[0];
  const apiServerUrl = apiServerUrlOf(first.access.address);
  // The embedded-etcd rule (config/k3sDatastore.ts): the first server of an HA site starts with --cluster-init.
  const count = k3sServerCount(servers.length);
  const embeddedEtcd = count.verdict === "runs" && count.clusterInit;
  if (args.etcdSnapshots && !embeddedEtcd) {
    throw new Error(
      `${args.where ?? args.site}: etcd snapshots need embedded etcd, and the site's ${servers.length} server(s) keep their state in SQLite`,
    );
  }
  const rule = nodeRule(args);
  const out = new Map<string, K3sConfigArgs>();
  for (const h of args.hosts) {
    const isFirst = h === first;
    const controlPlaneOnly = h.role === "server" && !!args.disableAgentOnServers;
    out.set(h.access.name, {
      role: h.role,
      nodeName: h.access.name,
      site: args.site,
      profile: args.profile,
      size: h.size,
      runsTrackers: hostRunsTrackers(rule, h.role),
      wasm: args.wasm,
      tokenFile: DEFAULT_TOKEN_FILE,
      serverUrl: isFirst ? undefined : apiServerUrl,
      clusterInit: isFirst && embeddedEtcd ? true : undefined,
      nodeIp: h.access.address,
      labels: h.labels,
      taints: h.taints,
      disable: h.role === "server" ? args.disable : undefined,
      tlsSan: h.role === "server" ? [h.access.address] : undefined,
      disableAgent: controlPlaneOnly || undefined,
      etcdSnapshots: h.role === "server" ? args.etcdSnapshots : undefined,
    });
  }
  return out;
}

/**
 * One site's K3s cluster: its join secrets (infra/clusterTokens.ts), a preflight of every host, then
 * servers one at a time (the first with cluster-init when the site runs
 * embedded etcd: config/k3sDatastore.ts), then agents in batches, each step waiting for its
 * node to be Ready at the version before the next starts. The same order is
 * the rolling-upgrade order. Two guards come first, judging the change
 * against state at preview: VersionGuard (no downgrade, no skipped minor)
 * and ServerSetGuard (no majority of the servers, nor the last one, removed
 * at once). A server removed from the inventory leaves the cluster before it
 * is uninstalled, its etcd member with it (K3sHost, scripts/leave.sh).
 */
export class K3sCluster extends pulumi.ComponentResource {
  /** Admin kubeconfig, server address rewritten to the first server; secret. */
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly provider: k8s.Provider;
  public readonly apiServerUrl: string;

  constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:infra:K3sCluster", name, {}, opts);

    const servers = args.hosts.filter((h) => h.role === "server");
    // validate() refuses these counts first, with the key path; this guards other callers.
    const count = k3sServerCount(servers.length);
    if (count.verdict === "refused") throw new Error(`${args.where}: the site has ${count.problem}; ${count.fix}`);
    const first = servers[0];
    this.apiServerUrl = apiServerUrlOf(first.access.address);

    // Both guards judge the change against state at preview; every host step
    // depends on them, so a refused change opens no SSH session.
    const guards: pulumi.Resource[] = [
      new VersionGuard(`${name}-version`, { where: args.where, version: args.version }, { parent: this }),
      new ServerSetGuard(
        `${name}-servers`,
        {
          where: args.where,
          servers: servers.map((h) => h.access.name),
          acknowledged: args.acknowledgedServerRemovals ?? [],
          controlPlaneOnly: !!args.disableAgentOnServers,
          acknowledgePath: args.acknowledgeServerRemovalPath ?? "acknowledgeServerRemoval",
        },
        { parent: this },
      ),
    ];
    const tokens = siteTokens(args.transport, name, args.agentTokenGeneration ?? 0, { parent: this });

    const byName = new Map(args.hosts.map((h) => [h.access.name, h]));
    const names = args.hosts.map((h) => h.access.name);
    const plan = upgradePlan(
      args.hosts.map((h) => ({ name: h.access.name, role: h.role })),
      args.agentBatchSize,
    );

    // Every host is checked before any host is changed: a host that cannot run
    // K3s (too small, ports taken, wrong host key...) must leave the site as it
    // was, not with its servers installed and its agents missing. The checks
    // run side by side, up to hostParallelism at once; each host's staging
    // waits for all of them.
    const width = args.hostParallelism ?? DEFAULT_HOST_PARALLELISM;
    const preflights: pulumi.Resource[] = [];
    args.hosts.forEach((h, i) => {
      const lane = laneOf(preflights, i, width);
      preflights.push(
        preflightStep(
          `${name}-${h.access.name}-preflight`,
          {
            transport: args.transport,
            access: h.access,
            privateKey: args.privateKey,
            role: h.role,
            size: h.size,
            otherHostnames: names.filter((n) => n !== h.access.name),
            expectedArch: args.arch,
          },
          // After the guards: a refused change opens no SSH session.
          { parent: this, dependsOn: lane ? [...guards, lane] : guards },
        ),
      );
    });

    const checkedPreflights = pulumi.all(preflights.map((p) => (p as HostStep).stdout)).apply((outs) => {
      uniqueHostnames(args.where, names, outs);
      return preflights;
    });

    // The artifacts go to every host side by side, before and apart from the
    // install chain, which goes host after host (infra/stageStep.ts).
    const staged = new Map<string, pulumi.Resource>();
    const stages: pulumi.Resource[] = [];
    args.hosts.forEach((h, i) => {
      const lane = laneOf(stages, i, width);
      const stage = stageStep(
        `${name}-${h.access.name}-stage`,
        { transport: args.transport, access: h.access, privateKey: args.privateKey, artifacts: args.artifacts },
        { parent: this, dependsOn: checkedPreflights.apply((p) => (lane ? [...p, lane] : p)) },
      );
      stages.push(stage);
      staged.set(h.access.name, stage);
    });

    // Only the nodes that run trackers (config/edgeNodes.ts) need their directories.
    const workloadDirs = workloadHostDirectories(args.profile);
    const configs = k3sHostConfigs(args);

    let previous: pulumi.Resource[] = guards;
    // Set once the first server runs (it is the plan's first step): what joining hosts pin.
    let caHash: pulumi.Output<string> | undefined;
    const kubelets: { host: K3sHost; config: K3sConfigArgs }[] = [];
    for (const step of plan) {
      const done: pulumi.Resource[] = [];
      for (const hostName of step) {
        const h = byName.get(hostName)!;
        const controlPlaneOnly = h.role === "server" && !!args.disableAgentOnServers;
        const config = configs.get(hostName)!;
        const node = new K3sHost(
          `${name}-${hostName}`,
          {
            transport: args.transport,
            access: h.access,
            privateKey: args.privateKey,
            version: args.version,
            artifacts: args.artifacts,
            tokens: hostTokenFiles(h.role, h === first, tokens, caHash),
            tokenEpoch: tokens.epoch,
            ...(h.role === "server" && args.etcdSnapshots?.s3 && args.s3Credentials
              ? { s3Credentials: args.s3Credentials }
              : {}),
            registries: args.registries,
            serviceMode: args.serviceMode,
            hostDirectories: config.runsTrackers ? workloadDirs : undefined,
            staged: staged.get(hostName)!,
            controller: first.access,
            waitReady: !controlPlaneOnly,
            peerApiUrls:
              h.role === "server"
                ? servers.filter((o) => o !== h).map((o) => apiServerUrlOf(o.access.address))
                : undefined,
            config,
          },
          { parent: this, dependsOn: previous },
        );
        done.push(node);
        if (!controlPlaneOnly) kubelets.push({ host: node, config });
        if (h === first) {
          const via = { transport: args.transport, access: h.access, privateKey: args.privateKey };
          caHash = caHashFrom(caHashStep(`${name}-ca-hash`, via, { parent: this, dependsOn: [node] }), hostName);
        }
      }
      previous = done;
    }

    // Once every server runs with the current agent token (servers go one at a
    // time, so the last in inventory order restarted last).
    const last = servers[servers.length - 1];
    saveBootstrapStep(
      `${name}-bootstrap-save`,
      { transport: args.transport, access: last.access, privateKey: args.privateKey },
      tokens,
      { parent: this, dependsOn: previous },
    );

    const fetch = hostStep(
      `${name}-kubeconfig`,
      {
        transport: args.transport,
        access: first.access,
        privateKey: args.privateKey,
        create: "cat /etc/rancher/k3s/k3s.yaml",
        // A read: it waits for a change of the server under way, not for readers.
        lock: "shared",
        captureStdout: true,
        secretStdout: true,
        // After an upgrade the API server's certificate may be new.
        triggers: [args.version],
      },
      { parent: this, dependsOn: previous },
    );

    const server = this.apiServerUrl;
    this.kubeconfig = pulumi.secret(
      fetch.stdout.apply((s) => {
        if (!s || !s.includes("clusters:")) {
          throw new Error(`${args.where}: ${first.access.name} returned no kubeconfig at /etc/rancher/k3s/k3s.yaml`);
        }
        return s.replace(/server: https:\/\/(127\.0\.0\.1|localhost|\[::1\]):6443/g, `server: ${server}`);
      }),
    );
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      {
        kubeconfig: this.kubeconfig,
        // Each site keeps working alone; a site's cluster is never another's.
        suppressHelmHookWarnings: true,
      },
      { parent: this },
    );

    // K3s applies node-label only when a node registers, so a label changed in
    // the inventory later would silently never arrive. Each node's labels are
    // also owned through the API (server-side apply, taking them over from the
    // registering kubelet), so an edit or a removal in the inventory reaches
    // the node on the next `up`. Taints stay registration-only: Node.spec.taints
    // is one atomic list that the node lifecycle controller also writes
    // (not-ready, unreachable), and owning it would fight that controller.
    for (const k of kubelets) {
      new k8s.core.v1.NodePatch(
        `${name}-${k.config.nodeName}-labels`,
        {
          metadata: {
            name: k.config.nodeName,
            labels: Object.fromEntries(nodeLabels(k.config)),
            annotations: { "pulumi.com/patchForce": "true" },
          },
        },
        { parent: this, provider: this.provider, dependsOn: [k.host] },
      );
    }

    this.registerOutputs({ kubeconfig: this.kubeconfig, apiServerUrl: this.apiServerUrl });
  }
}
