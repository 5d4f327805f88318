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
import * as pulumi from "@pulumi/pulumi";
import { loadStackSpec } from "./config/load";
import { gatekeeperArtifact } from "./components/gatekeeperManifest";
import { ArtifactError, ensurePinnedArtifact } from "./lib/pinnedArtifact";
import { declareStack } from "./program";

// The SDK records a stack trace for every promise it makes and every resource
// it registers; formatted through ts-node's source maps that was about a fifth
// of a 100-host preview (BENCHMARKS.md, "Program cost per resource"). Config
// and artifact errors are messages (RunError) and lose nothing; for a program
// bug, EDGEFLEET_STACK_TRACES=1 brings the traces back.
if (!process.env.EDGEFLEET_STACK_TRACES) Error.stackTraceLimit = 0;

// Host steps' provider process loads lib/hostCommandRun.ts with Node's own
// type stripping (lib/hostCommand.ts), on by default from Node 22.18.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  throw new pulumi.RunError(
    `Edgefleet needs Node.js 22.18 or newer; this is ${process.versions.node}. Install a current Node.js (.nvmrc has the version the project is tested with).`,
  );
}

const spec = loadStackSpec();
const root = process.cwd();

/** Per site: API server URL, kubeconfig (secret), tracker replicas, Grafana admin password (secret). */
export = async () => {
  const gatekeeperManifest = await ensurePinnedArtifact(gatekeeperArtifact(spec.gatekeeper, root)).catch((e) => {
    // Like a config error: the message alone, before any resource exists.
    if (e instanceof ArtifactError) throw new pulumi.RunError(`stack ${spec.stack}: ${e.message}`);
    throw e;
  });
  return { sites: await declareStack(spec, gatekeeperManifest, root) };
};
