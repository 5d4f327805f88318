/**
 * Edgefleet's program: one stack is a region, holding one or more sites; each
 * site is its own cluster (host layer, infra/) with its own site layer
 * (components/), so a site keeps working offline and fails alone.
 *
 * The stack config is validated before any resource is declared: an invalid
 * stack creates nothing and gets one error listing every problem. So is the
 * one input from outside the repository, the Gatekeeper release manifest
 * (edgefleet:gatekeeper): read from the artifacts folder, or downloaded once,
 * and checked against its pinned sha256 before anything is declared.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { loadStackSpec } from "./config/load";
import { siteLayerArgs } from "./config/siteLayer";
import type { HostSpec, SiteSpec, StackSpec } from "./config/schema";
import { gatekeeperArtifact } from "./components/gatekeeperManifest";
import { Site } from "./components/site";
import type { HostAccess } from "./infra/connection";
import { K3sCluster } from "./infra/k3sCluster";
import { SimulatedNodes } from "./infra/simulatedNodes";
import { UpstreamControlPlane } from "./infra/upstreamControlPlane";
import { ArtifactError, ensurePinnedArtifact } from "./lib/pinnedArtifact";

// The SDK records a stack trace for every promise it makes and every resource
// it registers; formatted through ts-node's source maps that was about a fifth
// of a 100-host preview (BENCHMARKS.md, "Program cost per resource"). Config
// and artifact errors are messages (RunError) and lose nothing; for a program
// bug, EDGEFLEET_STACK_TRACES=1 brings the traces back.
if (!process.env.EDGEFLEET_STACK_TRACES) Error.stackTraceLimit = 0;

const spec = loadStackSpec();
const root = process.cwd();
const privateKey = pulumi.secret(spec.ssh.privateKey);

function access(spec: StackSpec, siteIndex: number, hostIndex: number, h: HostSpec): HostAccess {
  return {
    name: h.name,
    address: h.address,
    port: h.port,
    user: h.user,
    hostKey: h.hostKey,
    hostKeyConfigPath: `edgefleet:sites[${siteIndex}].hosts[${hostIndex}].hostKey`,
    bastion: spec.ssh.bastion,
  };
}

const artifact = (dir: string, a: { file: string; sha256: string }) => ({
  localPath: path.resolve(root, dir, a.file),
  sha256: a.sha256,
});

function cluster(site: SiteSpec, si: number) {
  const where = `${spec.stack}/${site.name}`;
  if (site.distribution === "upstream") {
    const up = spec.upstream!;
    const a = up.artifacts;
    const server = access(spec, si, 0, site.hosts[0]);
    const cp = new UpstreamControlPlane(site.name, {
      where,
      transport: spec.hostTransport,
      server,
      privateKey,
      version: up.version,
      artifacts: {
        etcd: artifact(a.dir, a.etcd),
        "kube-apiserver": artifact(a.dir, a.kubeApiserver),
        "kube-controller-manager": artifact(a.dir, a.kubeControllerManager),
        "kube-scheduler": artifact(a.dir, a.kubeScheduler),
        kubectl: artifact(a.dir, a.kubectl),
      },
    });
    let nodes: SimulatedNodes | undefined;
    if (site.kwok && site.kwok.nodes > 0) {
      nodes = new SimulatedNodes(`${site.name}-edge`, {
        transport: spec.hostTransport,
        server,
        privateKey,
        site: site.name,
        profile: site.profile,
        count: site.kwok.nodes,
        sizeClass: site.kwok.size.name === "2c4g" ? "2c4g" : "4c8g",
        artifacts: { kwok: artifact(a.dir, a.kwok!), stages: artifact(a.dir, a.kwokStages!) },
        after: [cp],
      });
    }
    return { provider: cp.provider, kubeconfig: cp.kubeconfig, apiServerUrl: cp.apiServerUrl, ready: nodes ?? cp };
  }
  const k3s = spec.k3s!;
  const a = k3s.artifacts;
  const c = new K3sCluster(site.name, {
    where,
    site: site.name,
    profile: site.profile,
    hosts: site.hosts.map((h, hi) => ({
      access: access(spec, si, hi, h),
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
      k3s: artifact(a.dir, a.k3s),
      images: { ...artifact(a.dir, a.images), fileName: a.images.file },
      wasmShim: artifact(a.dir, a.wasmedgeShim),
    },
    wasm: true,
    serviceMode: site.serviceMode,
    disableAgentOnServers: site.disableAgentOnServers,
    registries: spec.registry,
    agentBatchSize: spec.upgrade.agentBatchSize,
  });
  return { provider: c.provider, kubeconfig: c.kubeconfig, apiServerUrl: c.apiServerUrl, ready: c };
}

/** Per site: API server URL, kubeconfig (secret), tracker replicas, Grafana admin password (secret). */
export = async () => {
  const gatekeeperManifest = await ensurePinnedArtifact(gatekeeperArtifact(spec.gatekeeper, root)).catch((e) => {
    // Like a config error: the message alone, before any resource exists.
    if (e instanceof ArtifactError) throw new pulumi.RunError(`stack ${spec.stack}: ${e.message}`);
    throw e;
  });
  const sites: Record<string, pulumi.Input<Record<string, unknown>>> = {};
  spec.sites.forEach((site, si) => {
    const c = cluster(site, si);
    const layer = new Site(site.name, siteLayerArgs(spec, site, c.provider, gatekeeperManifest), {
      dependsOn: [c.ready],
    });
    sites[site.name] = {
      apiServerUrl: c.apiServerUrl,
      kubeconfig: c.kubeconfig,
      trackerReplicas: layer.resolved.tracker.replicas,
      grafanaAdminPassword: layer.grafanaAdminPassword,
    };
  });
  return { sites };
};
