/**
 * What the program declares for a validated stack: every site's cluster (host
 * layer, infra/) and its site layer (components/). index.ts calls it after
 * validate() and the Gatekeeper manifest's pin check; test/unit/config/
 * refusals.test.ts calls it under mocks to show what it would refuse.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { hostAccess, k3sClusterArgs, localArtifact, simulatedNodesShape } from "./config/hostLayer";
import { siteLayerArgs } from "./config/siteLayer";
import { siteResolveArgs } from "./config/siteModel";
import type { SiteSpec, StackSpec } from "./config/schema";
import { GATEKEEPER_VERSION } from "./components/gatekeeperRelease";
import { gatekeeperManifestProblem } from "./components/render/gatekeeper";
import { resolveSite } from "./components/render/site";
import { Site } from "./components/site";
import { K3sCluster, type K3sClusterArgs } from "./infra/k3sCluster";
import { SimulatedNodes } from "./infra/simulatedNodes";
import { UpstreamControlPlane } from "./infra/upstreamControlPlane";

function cluster(
  spec: StackSpec,
  site: SiteSpec,
  si: number,
  privateKey: pulumi.Input<string>,
  root: string,
  k3sArgs: K3sClusterArgs | undefined,
) {
  const artifact = (dir: string, a: { file: string; sha256: string }) => localArtifact(root, dir, a);
  const where = `${spec.stack}/${site.name}`;
  if (site.distribution === "upstream") {
    const up = spec.upstream!;
    const a = up.artifacts;
    const server = hostAccess(spec, si, 0, site.hosts[0]);
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
        ...simulatedNodesShape(site),
        artifacts: { kwok: artifact(a.dir, a.kwok!), stages: artifact(a.dir, a.kwokStages!) },
        after: [cp],
      });
    }
    return { provider: cp.provider, kubeconfig: cp.kubeconfig, apiServerUrl: cp.apiServerUrl, ready: nodes ?? cp };
  }
  const c = new K3sCluster(site.name, k3sArgs!);
  return { provider: c.provider, kubeconfig: c.kubeconfig, apiServerUrl: c.apiServerUrl, ready: c };
}

/**
 * Every site's layer is resolved, and the Gatekeeper manifest checked
 * against it, before the first host is declared: nothing a site would
 * refuse can leave others half-built. Throws a RunError naming the stack.
 */
export function checkSites(spec: StackSpec, gatekeeperManifest: string): void {
  const manifestYaml = fs.readFileSync(gatekeeperManifest, "utf8");
  spec.sites.forEach((site, si) => {
    const at = `edgefleet:sites[${si}]`;
    let problem: string | undefined;
    try {
      problem = gatekeeperManifestProblem(manifestYaml, {
        ...resolveSite(siteResolveArgs(site, at)).gatekeeper,
        version: `v${spec.gatekeeper.version}`,
      });
      if (problem)
        problem = `edgefleet:gatekeeper: ${spec.gatekeeper.file} cannot be installed as Edgefleet sizes it: ${problem}. Fix: pin a Gatekeeper release whose deploy/gatekeeper.yaml Edgefleet supports (the default, ${GATEKEEPER_VERSION}).`;
    } catch (e) {
      problem = `${at}: ${(e as Error).message}`;
    }
    if (problem) throw new pulumi.RunError(`stack ${spec.stack}: ${problem}`);
  });
}

/**
 * How many sites a preview declares before it waits for the engine to have
 * taken their resources. The SDK serializes every resource's inputs when it
 * is declared and holds them until the engine answers, and the engine takes
 * them one after another: declared all at once, a 2000-host region's 86,000
 * resources held the program at 11 GB (issue 15). A region of up to this
 * many sites is declared at once, as before.
 */
export const SITES_PER_BATCH = 32;

export interface DeclareOptions {
  /** @default SITES_PER_BATCH */
  sitesPerBatch?: number;
  /**
   * Waits until every resource declared so far is registered.
   * @default the SDK's pulumi.runtime.waitForRPCs, in a preview; none in an update
   */
  drain?: () => Promise<void>;
}

/**
 * The SDK's own wait for outstanding registrations (what it runs before the
 * program exits), which its typings leave out.
 */
function sdkDrain(): () => Promise<void> {
  const wait = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  if (typeof wait !== "function") {
    throw new Error("program.ts: this @pulumi/pulumi has no runtime.waitForRPCs, which a preview in batches needs");
  }
  return () => wait();
}

/**
 * Per site: API server URL, kubeconfig (secret), tracker replicas, Grafana
 * admin password (secret), and on MQTT sites the broker's ports, CA and device
 * credentials (secret).
 *
 * Every site's arguments are computed (and so checked) before the first
 * resource is declared; then sites are declared in batches of
 * `sitesPerBatch`, waiting in between. Only a preview waits: in an update a
 * registration returns once its resource is created, so waiting would hold
 * every site of the next batch behind the slowest host of this one.
 */
export async function declareStack(
  spec: StackSpec,
  gatekeeperManifest: string,
  root: string,
  options: DeclareOptions = {},
): Promise<Record<string, pulumi.Input<Record<string, unknown>>>> {
  checkSites(spec, gatekeeperManifest);
  const privateKey = pulumi.secret(spec.ssh.privateKey);
  const k3sArgs = spec.sites.map((site, si) =>
    site.distribution === "upstream" ? undefined : k3sClusterArgs(spec, site, si, privateKey, root),
  );
  const perBatch = options.sitesPerBatch ?? SITES_PER_BATCH;
  const drain = options.drain ?? (pulumi.runtime.isDryRun() ? sdkDrain() : undefined);
  const sites: Record<string, pulumi.Input<Record<string, unknown>>> = {};
  for (let si = 0; si < spec.sites.length; si++) {
    if (drain && si > 0 && si % perBatch === 0) await drain();
    const site = spec.sites[si];
    const c = cluster(spec, site, si, privateKey, root, k3sArgs[si]);
    const layer = new Site(site.name, siteLayerArgs(spec, site, c.provider, gatekeeperManifest), {
      dependsOn: [c.ready],
    });
    sites[site.name] = {
      apiServerUrl: c.apiServerUrl,
      kubeconfig: c.kubeconfig,
      trackerReplicas: layer.resolved.tracker.replicas,
      grafanaAdminPassword: layer.grafanaAdminPassword,
      ...(layer.mqtt ? { mqtt: layer.mqtt } : {}),
    };
  }
  return sites;
}
