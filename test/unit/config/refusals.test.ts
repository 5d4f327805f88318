/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * validate() refuses first. Every refusal further down the line (a throw
 * while the host or site layer is declared, a mandatory CrossGuard policy, a
 * Gatekeeper Constraint) is listed here with either
 *   - the stack config that trips it: the later refusal is shown to happen
 *     (the layers really throw under Pulumi mocks, the policy really reports
 *     the rendered objects) and validate() is shown to refuse that config
 *     first, with the key path an operator must change; or
 *   - why no stack config can reach it (what the code passes there).
 * The lists are read from the sources and from the policy pack, so a new
 * throw or a new policy fails this test until it is classified.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { runtimeClassOf } from "../../../config/capacity";
import type { StackSpec } from "../../../config/schema";
import { validate } from "../../../config/validate";
import { localGatekeeperManifest } from "../../../components/gatekeeperManifest";
import { gatekeeperManifestProblem } from "../../../components/render/gatekeeper";
import { planSite } from "../../../components/render/site";
import { siteResolveArgs } from "../../../config/siteModel";
import { siteOptions } from "../../../policies/crossguard/config";
import { pulumiTypeOf, workloadOf } from "../../../policies/crossguard/lib/workload";
import { policies } from "../../../policies/crossguard/policies";
import { edgeCapacityViolations } from "../../../policies/crossguard/rules/capacity";
import { haServerViolations } from "../../../policies/crossguard/rules/cluster";
import { HOST_LAYER_DEFAULTS, k3sPinViolations } from "../../../policies/crossguard/rules/hostLayer";
import { sharedViolations } from "../../../policies/crossguard/rules/pod";
import { SECRETS_DEFAULTS, plainSecretViolations } from "../../../policies/crossguard/rules/secrets";
import { GATEKEEPER_POLICIES } from "../../../policies/gatekeeper/catalog";
import { SECRET_PLACEHOLDER, unwrapSecrets, type Manifest } from "../../../policies/scripts/renderStack";
import { declareStack } from "../../../program";
import { policyConfig } from "../../../scripts/inventory/policy-config";
import { SECRET_KEYS, problemsOf, validConfig } from "./helpers";

// See test/policy/renderedStacks.test.ts: cloning within this realm keeps Pulumi's array checks true.
globalThis.structuredClone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, "../../..");
type Json = Record<string, any>;
const site = (c: Json, i: number): Json => c["edgefleet:sites"][i];

/** A later refusal: what happens to a stack that reached it. */
type Later =
  /** Declaring the stack (index.ts's declareStack, under mocks) throws this. */
  | { layers: RegExp }
  /** This policy reports the objects the stack's site would apply (rendered by the real Site, edited by `edit`). */
  | { policy: string; site: number; edit?: (ms: Manifest[]) => void }
  /** This stack-level rule reports the stack (its inputs as the pack gets them). */
  | { stackRule: (spec: StackSpec, declared: Registration[]) => string[] };

interface Case {
  name: string;
  /** The stack config that trips it, on top of test/unit/config/helpers.ts's valid base. */
  raw: (cfg: Json) => void;
  /** The validated base spec, changed the same way (what the program would get if validate() let it through). */
  spec: (s: StackSpec) => void;
  later: Later;
  /** validate()'s refusal. */
  key: string;
  text?: RegExp;
}

const tracker = (s: StackSpec, i: number, t: Json) => (s.sites[i].overrides = { ...s.sites[i].overrides, tracker: t });

const CASES: Case[] = [
  {
    name: "zero tracker replicas",
    raw: (c) => (site(c, 1).overrides = { tracker: { replicas: 0 } }),
    spec: (s) => tracker(s, 1, { replicas: 0 }),
    later: { layers: /tracker replicas must be >= 1/ },
    key: "edgefleet:sites[1].overrides.tracker.replicas",
  },
  {
    name: "more trackers than the site holds",
    raw: (c) => (site(c, 1).overrides = { tracker: { replicas: 500 } }),
    spec: (s) => tracker(s, 1, { replicas: 500 }),
    later: { layers: /site capacity \(retailCity\)/ },
    key: "edgefleet:sites[1].overrides.tracker.replicas",
    text: /lower replicas to \d+ or less/,
  },
  {
    name: "more trackers than the site holds (CrossGuard)",
    raw: (c) => (site(c, 1).overrides = { tracker: { replicas: 500 } }),
    spec: () => undefined,
    later: { policy: "edge-capacity", site: 1, edit: (ms) => (trackerOf(ms).spec.replicas = 500) },
    key: "edgefleet:sites[1].overrides.tracker.replicas",
  },
  {
    name: "tracker requests above limits",
    raw: (c) => (site(c, 1).overrides = { tracker: { resources: { requests: { cpu: "300m" } } } }),
    spec: (s) => tracker(s, 1, { resources: { requests: { cpu: "300m" } } }),
    later: { layers: /requests \(300m\/128Mi\) exceed limits/ },
    key: "edgefleet:sites[1].overrides.tracker.resources.requests.cpu",
  },
  {
    name: "a tracker limit 30x its request",
    raw: (c) =>
      (site(c, 1).overrides = { tracker: { resources: { requests: { cpu: "10m" }, limits: { cpu: "300m" } } } }),
    spec: (s) => tracker(s, 1, { resources: { requests: { cpu: "10m" }, limits: { cpu: "300m" } } }),
    later: { policy: "limit-ratio", site: 1 },
    key: "edgefleet:sites[1].overrides.tracker.resources",
  },
  {
    name: "tracker limits beyond the site's smallest node class",
    raw: (c) =>
      (site(c, 1).overrides = {
        tracker: { resources: { requests: { cpu: "500m" }, limits: { cpu: "2", memory: "256Mi" } } },
      }),
    spec: (s) => tracker(s, 1, { resources: { requests: { cpu: "500m" }, limits: { cpu: "2", memory: "256Mi" } } }),
    later: { policy: "max-limits", site: 1 },
    key: "edgefleet:sites[1].overrides.tracker.resources.limits",
  },
  {
    name: "a tracker image from a registry the stack does not allow",
    raw: (c) => (site(c, 1).overrides = { tracker: { image: "registry.example.com/logistics-system:1.4.2" } }),
    spec: (s) => tracker(s, 1, { image: "registry.example.com/logistics-system:1.4.2" }),
    later: { policy: "allowed-repos", site: 1 },
    key: "edgefleet:sites[1].overrides.tracker.image",
    text: /edgefleet:allowedRegistries\[0\]/,
  },
  {
    name: "a tracker image tagged latest",
    raw: (c) => (site(c, 1).overrides = { tracker: { image: "ghcr.io/edgefleet/tracker:latest" } }),
    spec: (s) => tracker(s, 1, { image: "ghcr.io/edgefleet/tracker:latest" }),
    later: { layers: /is not pinned: tag "latest" is not a pin/ },
    key: "edgefleet:sites[1].overrides.tracker.image",
  },
  {
    name: "a tracker image with a tag inside its path",
    raw: (c) => (site(c, 1).overrides = { tracker: { image: "ghcr.io/edgefleet:x/tracker:1.0.0" } }),
    spec: (s) => tracker(s, 1, { image: "ghcr.io/edgefleet:x/tracker:1.0.0" }),
    later: { layers: /is not a valid image reference: repository "edgefleet:x\/tracker" is not a path/ },
    key: "edgefleet:sites[1].overrides.tracker.image",
  },
  {
    // Read as the runtime reads it (config/image.ts): Docker Hub's library/tracker, which no stack allowed.
    name: "a tracker image naming no registry",
    raw: (c) => (site(c, 1).overrides = { tracker: { image: "tracker:1.0.0" } }),
    spec: (s) => tracker(s, 1, { image: "tracker:1.0.0" }),
    later: { policy: "allowed-repos", site: 1 },
    key: "edgefleet:sites[1].overrides.tracker.image",
    text: /\(docker\.io\/library\/tracker\) is not from an allowed registry/,
  },
  {
    name: "Prometheus agent mode without a remote-write target",
    raw: (c) => (site(c, 1).overrides = { monitoring: { agentMode: true } }),
    spec: (s) => (s.sites[1].overrides = { monitoring: { agentMode: true } }),
    later: { layers: /agent mode needs remoteWriteUrl/ },
    key: "edgefleet:sites[1].overrides.monitoring.remoteWriteUrl",
  },
  {
    name: "a remote-write target that is not http(s)",
    raw: (c) =>
      (site(c, 1).overrides = { monitoring: { agentMode: true, remoteWriteUrl: "ftp://metrics.example.com" } }),
    spec: (s) =>
      (s.sites[1].overrides = { monitoring: { agentMode: true, remoteWriteUrl: "ftp://metrics.example.com" } }),
    later: { layers: /is not an http\(s\) URL/ },
    key: "edgefleet:sites[1].overrides.monitoring.remoteWriteUrl",
  },
  {
    name: "a token in the remote-write URL",
    raw: (c) =>
      (site(c, 1).overrides = {
        monitoring: { agentMode: true, remoteWriteUrl: `https://metrics.example.com/w?t=ghp_${"a".repeat(36)}` },
      }),
    spec: (s) =>
      (s.sites[1].overrides = {
        monitoring: { agentMode: true, remoteWriteUrl: `https://metrics.example.com/w?t=ghp_${"a".repeat(36)}` },
      }),
    later: { policy: "no-plain-secrets", site: 1 },
    key: "edgefleet:sites[1].overrides.monitoring.remoteWriteUrl",
  },
  {
    name: "an inventory label Edgefleet sets itself",
    raw: (c) => (site(c, 1).hosts[1].labels = { "node-type": "edge" }),
    spec: (s) => (s.sites[1].hosts[1].labels = { "node-type": "edge" }),
    later: { layers: /label "node-type" is set by Edgefleet/ },
    key: 'edgefleet:sites[1].hosts[1].labels["node-type"]',
  },
  {
    name: "a label in a namespace the kubelet may not self-assign",
    raw: (c) => (site(c, 1).hosts[1].labels = { "node-role.kubernetes.io/worker": "true" }),
    spec: (s) => (s.sites[1].hosts[1].labels = { "node-role.kubernetes.io/worker": "true" }),
    later: { layers: /Kubernetes-reserved namespace/ },
    key: 'edgefleet:sites[1].hosts[1].labels["node-role.kubernetes.io/worker"]',
  },
  {
    name: "a taint key in a reserved namespace",
    raw: (c) => (site(c, 1).hosts[1].taints = ["kubernetes.io/x=y:PreferNoSchedule"]),
    spec: (s) => (s.sites[1].hosts[1].taints = [{ key: "kubernetes.io/x", value: "y", effect: "PreferNoSchedule" }]),
    later: { layers: /Kubernetes-reserved namespace/ },
    key: "edgefleet:sites[1].hosts[1].taints[0]",
  },
  {
    name: "a malformed label key",
    raw: (c) => (site(c, 1).hosts[1].labels = { "-zone": "a" }),
    spec: (s) => (s.sites[1].hosts[1].labels = { "-zone": "a" }),
    later: { layers: /is not a valid label\/taint key/ },
    key: 'edgefleet:sites[1].hosts[1].labels["-zone"]',
  },
  {
    name: "a malformed label value",
    raw: (c) => (site(c, 1).hosts[1].labels = { zone: "has space" }),
    spec: (s) => (s.sites[1].hosts[1].labels = { zone: "has space" }),
    later: { layers: /is not a valid label value/ },
    key: "edgefleet:sites[1].hosts[1].labels.zone",
  },
  {
    name: "a taint with an unknown effect",
    raw: (c) => (site(c, 1).hosts[1].taints = ["a=b:Sometimes"]),
    spec: (s) => (s.sites[1].hosts[1].taints = [{ key: "a", value: "b", effect: "Sometimes" as any }]),
    later: { layers: /taint effect "Sometimes"/ },
    key: "edgefleet:sites[1].hosts[1].taints[0]",
  },
  {
    name: "a host name that is no DNS label",
    raw: (c) => (site(c, 1).hosts[1].name = "B_A1"),
    spec: (s) => (s.sites[1].hosts[1].name = "B_A1"),
    later: { layers: /node name must be a lowercase DNS label/ },
    key: "edgefleet:sites[1].hosts[1].name",
  },
  {
    name: "a site without a server",
    raw: (c) => (site(c, 1).hosts[0].role = "agent"),
    spec: (s) => (s.sites[1].hosts[0].role = "agent"),
    later: { layers: /the site has no server; give one host/ },
    key: "edgefleet:sites[1].hosts",
  },
  {
    name: "a host name used twice",
    raw: (c) => (site(c, 1).hosts[1].name = "b-s1"),
    spec: (s) => (s.sites[1].hosts[1].name = "b-s1"),
    later: { layers: /appears twice in the upgrade inventory/ },
    key: "edgefleet:sites[1].hosts[1].name",
  },
  {
    name: "a mirror without endpoints",
    raw: (c) => (c["edgefleet:registry"] = { mirrors: { "docker.io": { endpoint: [] } } }),
    spec: (s) => (s.registry = { mirrors: { "docker.io": { endpoints: [] } } }),
    later: { layers: /needs at least one endpoint/ },
    key: 'edgefleet:registry.mirrors["docker.io"].endpoint',
  },
  {
    name: "a mirror endpoint that is not http(s)",
    raw: (c) => (c["edgefleet:registry"] = { mirrors: { "docker.io": { endpoint: ["ftp://mirror.example.com"] } } }),
    spec: (s) => (s.registry = { mirrors: { "docker.io": { endpoints: ["ftp://mirror.example.com"] } } }),
    later: { layers: /is not an http\(s\) URL/ },
    key: 'edgefleet:registry.mirrors["docker.io"].endpoint[0]',
  },
  {
    name: "a host parallelism of 0",
    raw: (c) => (c["edgefleet:hostParallelism"] = 0),
    spec: (s) => (s.hostParallelism = 0),
    later: { layers: /parallelism must be a whole number >= 1/ },
    key: "edgefleet:hostParallelism",
  },
  {
    name: "an agent batch size of 0",
    raw: (c) => (c["edgefleet:upgrade"] = { agentBatchSize: 0 }),
    spec: (s) => (s.upgrade = { agentBatchSize: 0 }),
    later: { layers: /upgrade batch size must be a positive integer/ },
    key: "edgefleet:upgrade.agentBatchSize",
  },
  {
    name: "an even number of HA servers",
    raw: (c) => site(c, 0).hosts.splice(2, 1),
    spec: (s) => s.sites[0].hosts.splice(2, 1),
    later: { stackRule: (s) => haServerViolations((policyConfig(s)["ha-servers-odd"] as any).servers) },
    key: "edgefleet:sites[0].hosts",
  },
  {
    name: "a K3s version that is a channel, not a release",
    raw: (c) => (c["edgefleet:k3s"].version = "stable"),
    spec: (s) => (s.k3s!.version = "stable"),
    later: {
      stackRule: (_s, declared) =>
        declared
          .filter((r) => r.type.includes("VersionGuard"))
          .flatMap((r) => k3sPinViolations(r.type, r.inputs, HOST_LAYER_DEFAULTS)),
    },
    key: "edgefleet:k3s.version",
  },
  {
    name: "an artifact without its sha256",
    raw: (c) => (c["edgefleet:k3s"].artifacts.k3s.sha256 = "abc"),
    spec: (s) => (s.k3s!.artifacts.k3s.sha256 = "abc"),
    later: {
      stackRule: (_s, declared) =>
        declared
          .filter((r) => r.type.includes("HostCommand"))
          .flatMap((r) => k3sPinViolations(r.type, r.inputs, HOST_LAYER_DEFAULTS)),
    },
    key: "edgefleet:k3s.artifacts.k3s.sha256",
  },
  {
    name: "Gatekeeper without a controller",
    raw: (c) => (site(c, 1).overrides = { gatekeeper: { replicas: 0 } }),
    spec: (s) => (s.sites[1].overrides = { gatekeeper: { replicas: 0 } }),
    later: { layers: /gatekeeper controllerReplicas must be >= 1/ },
    key: "edgefleet:sites[1].overrides.gatekeeper.replicas",
  },
  {
    name: "etcd snapshots on a one-server (SQLite) site",
    raw: (c) => (site(c, 1).backup = { retention: 3 }),
    spec: (s) => (s.sites[1].backup = { schedule: "0 */12 * * *", retention: 3, compress: false }),
    later: { layers: /etcd snapshots need embedded etcd, and the site's 1 server\(s\) keep their state in SQLite/ },
    key: "edgefleet:sites[1].backup",
    text: /SQLite/,
  },
  {
    name: "an etcd snapshot schedule that is no cron spec",
    raw: (c) => (site(c, 0).backup = { schedule: "0 */6 * *" }),
    // The layers are declared for site 1 alone: it becomes a copy of the three-server site 0.
    spec: (s) => (s.sites[1] = { ...s.sites[0], backup: { schedule: "0 */6 * *", retention: 5, compress: false } }),
    later: { layers: /etcd snapshot schedule: "0 \*\/6 \* \*" has 4 fields/ },
    key: "edgefleet:sites[0].backup.schedule",
  },
  {
    name: "an etcd snapshot retention of 0",
    raw: (c) => (site(c, 0).backup = { retention: 0 }),
    spec: (s) => (s.sites[1] = { ...s.sites[0], backup: { schedule: "0 */12 * * *", retention: 0, compress: false } }),
    later: { layers: /etcd snapshot retention must be a whole number of at least 1/ },
    key: "edgefleet:sites[0].backup.retention",
  },
];

/** Where each throw of components/ and infra/ stands: the cases above that reach it, or why none can. */
const THROWS: Array<{ file: string; match: string; cases?: string[]; unreachable?: string }> = [
  // components/
  {
    file: "components/gatekeeperManifest.ts",
    match: "is missing at",
    unreachable: "offline tools' local copy; the program uses ensurePinnedArtifact before anything is declared",
  },
  {
    file: "components/site.ts",
    match: "authzPolicyRego is required",
    unreachable: "siteLayerArgs always passes policies/authz/src.rego",
  },
  { file: "components/footprint.ts", match: "usage: footprint.js", unreachable: "a CLI's usage error" },
  ...[
    "gatekeeper manifest: ${d.errors",
    "gatekeeper manifest has no",
    "is not the pinned ${GATEKEEPER_IMAGE_REPOSITORY}",
    "lacks the validation.gatekeeper.sh webhook",
  ].map((match) => ({
    file: "components/render/gatekeeper.ts",
    match,
    unreachable:
      "the pinned manifest (edgefleet:gatekeeper): gatekeeperManifestProblem refuses it before any resource (program.ts checkSites)",
  })),
  {
    file: "components/render/gatekeeper.ts",
    match: "controllerReplicas must be >= 1",
    cases: ["Gatekeeper without a controller"],
  },
  {
    file: "components/render/gatekeeper.ts",
    match: "expected ConstraintTemplate",
    unreachable: "templates come from policies/gatekeeper's catalog",
  },
  {
    file: "components/render/gatekeeper.ts",
    match: "is not constraints.gatekeeper.sh/v1beta1",
    unreachable: "Constraints come from the catalog",
  },
  {
    file: "components/render/gatekeeper.ts",
    match: "no ConstraintTemplate defines kind",
    unreachable: "the catalog renders a template for every Constraint",
  },
  ...["has no apiVersion or kind", "has no metadata.name", "depends-on annotation is not supported"].map((match) => ({
    file: "components/render/objectGraph.ts",
    match,
    unreachable:
      "its objects are the pinned Gatekeeper manifest (checked by sha256 before any resource) and policies/gatekeeper's catalog; test/unit/components/objectGraph.test.ts covers the refusals",
  })),
  {
    file: "components/render/redis.ts",
    match: "redis password must be",
    unreachable: "generated (lib/generatedSecret.ts)",
  },
  {
    file: "components/render/redis.ts",
    match: "redis persistence needs storageGi",
    unreachable: "the profile's numbers; no stack key",
  },
  { file: "components/render/site.ts", match: "site capacity", cases: ["more trackers than the site holds"] },
  {
    file: "components/render/site.ts",
    match: "overrides.logShipper needs Loki",
    unreachable: "no stack key sets logShipper",
  },
  {
    file: "components/render/prometheus.ts",
    match: "agent mode needs remoteWriteUrl",
    cases: ["Prometheus agent mode without a remote-write target"],
  },
  {
    file: "components/render/prometheus.ts",
    match: "is not an http(s) URL",
    cases: ["a remote-write target that is not http(s)"],
  },
  {
    file: "components/render/prometheus.ts",
    match: "no metric list for scrape job",
    unreachable: "scrape jobs are the layer's own",
  },
  { file: "components/render/common.ts", match: "exceed limits", cases: ["tracker requests above limits"] },
  {
    file: "components/render/site.ts",
    match: "unparseable ${what} quantity",
    unreachable: "reads rendered manifests (footprint)",
  },
  // config/image.ts: the site layer's reading of the tracker image (siteLayerArgs, Site), which validate() asks too.
  {
    file: "config/image.ts",
    match: "throw new ImageRefError(image, r)",
    cases: ["a tracker image with a tag inside its path"],
  },
  ...["is not a host[:port]", "must be a bare lower-case path", "reads as the first component of a"].map((match) => ({
    file: "config/image.ts",
    match,
    unreachable: "pinnedImage gets parseImageRef's references, or the layer's own constants",
  })),
  { file: "config/image.ts", match: '"is not pinned"', cases: ["a tracker image tagged latest"] },
  ...["the guest user is not allowed", "password must be >= 16", "is under twice disk_free_limit"].map((match) => ({
    file: "components/render/rabbitmq.ts",
    match,
    unreachable:
      "users and passwords are generated or the stack's (held to 16+ letters and digits), storage is the profile's",
  })),
  ...["is defined twice", "is not a DNS label", "is reserved"].map((match) => ({
    file: "components/render/rabbitmq.ts",
    match,
    unreachable: "validate() refuses such device names and duplicates first (config/schema.ts, config/mqtt.ts)",
  })),
  {
    file: "components/render/tracker.ts",
    match: "is not <int>(ms|s|m|h)",
    unreachable: "durations are the profile's settings",
  },
  { file: "components/render/tracker.ts", match: "tracker replicas must be >= 1", cases: ["zero tracker replicas"] },
  {
    file: "components/render/tracker.ts",
    match: "is below minReplicas",
    unreachable: "planSite keeps the HPA's max at or above its floor",
  },
  {
    file: "components/render/opa.ts",
    match: "has no package clause",
    unreachable: "the policy is policies/authz/src.rego",
  },
  {
    file: "components/render/opa.ts",
    match: "must not live under package system",
    unreachable: "the policy is policies/authz/src.rego",
  },
  {
    file: "components/profiles.ts",
    match: "a region needs at least one site",
    unreachable: "regionTrackerReplicas is not called by the program",
  },
  {
    file: "components/profiles.ts",
    match: "region of ${names.length} sites",
    unreachable: "regionTrackerReplicas is not called by the program",
  },
  {
    file: "components/profiles.ts",
    match: "edge node count must be a positive integer",
    unreachable: "planSite asks for at least one",
  },
  // infra/
  ...["must be an absolute path of plain names", "is not octal like", "uid and gid must be"].map((match) => ({
    file: "infra/render/hostDirs.ts",
    match,
    unreachable: "the directories are the profile's",
  })),
  {
    file: "infra/render/k3sConfig.ts",
    match: "if (problem) throw new Error(`${where}: ${problem}`)",
    cases: [
      "a label in a namespace the kubelet may not self-assign",
      "a taint key in a reserved namespace",
      "a malformed label key",
    ],
  },
  { file: "infra/render/k3sConfig.ts", match: "is not a valid label value", cases: ["a malformed label value"] },
  {
    file: "infra/render/k3sConfig.ts",
    match: "is set by Edgefleet",
    cases: ["an inventory label Edgefleet sets itself"],
  },
  {
    file: "infra/render/k3sConfig.ts",
    match: "is not a K3s packaged-component name",
    unreachable: "the disable list is the profile's",
  },
  {
    file: "infra/render/k3sConfig.ts",
    match: "node name must be a lowercase DNS label",
    cases: ["a host name that is no DNS label"],
  },
  {
    file: "infra/render/k3sConfig.ts",
    match: "serverUrl must look like",
    unreachable: "built from the first server's validated IP (apiServerUrlOf)",
  },
  {
    file: "infra/render/k3sConfig.ts",
    match: "an agent needs serverUrl",
    unreachable: "k3sHostConfigs gives every host but the first server one",
  },
  {
    file: "infra/render/k3sConfig.ts",
    match: "apply to servers only",
    unreachable: "k3sHostConfigs sets them on servers only",
  },
  {
    file: "infra/render/k3sConfig.ts",
    match: "are mutually exclusive",
    unreachable: "k3sHostConfigs sets cluster-init on the first server only",
  },
  { file: "infra/render/k3sConfig.ts", match: "tokenFile must be an absolute path", unreachable: "DEFAULT_TOKEN_FILE" },
  {
    file: "infra/render/k3sConfig.ts",
    match: "the agent token file must be an absolute path",
    unreachable: "DEFAULT_AGENT_TOKEN_FILE",
  },
  {
    file: "infra/render/k3sConfig.ts",
    match: "tokenFile and agentTokenFile must be different files",
    unreachable: "the two defaults differ and k3sHostConfigs sets no other",
  },
  {
    file: "infra/clusterTokens.ts",
    match: "agentTokenGeneration must be a whole number",
    unreachable: "the schema takes whole numbers of at least 0 (config/schema.ts SiteSchema)",
  },
  {
    file: "infra/clusterTokens.ts",
    match: "a joining host needs the cluster CA hash",
    unreachable: "the first server is the upgrade plan's first step, so its CA hash exists before any joining host",
  },
  {
    file: "infra/render/joinTokens.ts",
    match: "must be 16-256 letters and digits",
    unreachable: "generatedSecret makes 48 letters and digits",
  },
  {
    file: "infra/render/joinTokens.ts",
    match: "must be 64 lowercase hex digits",
    unreachable: "caHashOf checks the hash before any token is built from it",
  },
  {
    file: "infra/render/joinTokens.ts",
    match: "the agent token must differ from the server token",
    unreachable: "two secrets generated apart (infra/clusterTokens.ts siteTokens)",
  },
  {
    file: "infra/render/joinTokens.ts",
    match: "reported no cluster CA hash",
    unreachable: "the ca-hash step's stdout, known only once it ran on the host (scripts/ca-hash.sh fails first)",
  },
  { file: "infra/render/k3sConfig.ts", match: "taint effect", cases: ["a taint with an unknown effect"] },
  {
    file: "infra/render/k3sConfig.ts",
    match: "is not a hostname or IP",
    unreachable: "tls-san is the host's validated IP",
  },
  ...[
    "is not a K3S_*, CONTAINERD_*",
    "is not allowed; the join token",
    "has characters outside",
    "must be an absolute path of [A-Za-z0-9_./-]",
    "restartDelaySeconds must be",
  ].map((match) => ({
    file: "infra/render/service.ts",
    match,
    unreachable: "the env file and supervisor paths are the host layer's constants",
  })),
  { file: "infra/render/yaml.ts", match: "non-finite number", unreachable: "config.yaml holds no computed numbers" },
  {
    file: "infra/render/yaml.ts",
    match: "nested collections in lists",
    unreachable: "config.yaml's lists are of strings",
  },
  { file: "infra/render/registries.ts", match: "needs at least one endpoint", cases: ["a mirror without endpoints"] },
  {
    file: "infra/render/registries.ts",
    match: "is not an http(s) URL",
    cases: ["a mirror endpoint that is not http(s)"],
  },
  { file: "infra/render/size.ts", match: "unknown size class", unreachable: "the schema takes known classes only" },
  {
    file: "infra/render/size.ts",
    match: "explicit size needs positive integer",
    unreachable: "the schema rounds an explicit size down to whole millicores and MiB (config/schema.ts)",
  },
  ...["K3s downgrade from", "it skips minor version"].map((match) => ({
    file: "infra/render/upgrade.ts",
    match,
    unreachable:
      "VersionGuard's check against the deployed version: state, not config; refused at preview before any host step",
  })),
  { file: "infra/render/upgrade.ts", match: "upgrade batch size must be", cases: ["an agent batch size of 0"] },
  { file: "infra/stageStep.ts", match: "parallelism must be a whole number", cases: ["a host parallelism of 0"] },
  {
    file: "infra/render/upgrade.ts",
    match: "appears twice in the upgrade inventory",
    cases: ["a host name used twice"],
  },
  {
    file: "infra/k3sHost.ts",
    match: "give each host of the site its own hostname",
    unreachable: "the hostnames the hosts report at preflight: host state, not config",
  },
  { file: "infra/hostStep.ts", match: "expected octal digits", unreachable: "upload modes are the host layer's own" },
  {
    file: "infra/hostStep.ts",
    match: "carries no secret environment",
    unreachable: "the host layer's steps with a delete script carry no secrets",
  },
  {
    file: "infra/upstreamControlPlane.ts",
    match: "returned no kubeconfig",
    unreachable: "what the host returns at `up`, not config",
  },
  { file: "infra/k3sCluster.ts", match: "the site has ${count.problem}", cases: ["a site without a server"] },
  {
    file: "infra/k3sCluster.ts",
    match: "etcd snapshots need embedded etcd",
    cases: ["etcd snapshots on a one-server (SQLite) site"],
  },
  {
    file: "infra/render/k3sConfig.ts",
    match: "etcd snapshot schedule: ${cron}",
    cases: ["an etcd snapshot schedule that is no cron spec"],
  },
  {
    file: "infra/render/k3sConfig.ts",
    match: "etcd snapshot retention must be",
    cases: ["an etcd snapshot retention of 0"],
  },
  {
    file: "infra/render/k3sConfig.ts",
    match: "etcd S3 target needs an endpoint",
    unreachable: "edgefleet:backupS3's endpoint and bucket are checked by the schema (BackupS3Schema)",
  },
  {
    file: "infra/k3sHost.ts",
    match: "etcd snapshots to S3 and S3 credentials go together",
    unreachable:
      "etcdSnapshotArgs (config/hostLayer.ts) gives both or neither, and K3sCluster passes the credentials to servers with S3 only",
  },
  {
    file: "infra/k3sCluster.ts",
    match: "returned no kubeconfig",
    unreachable: "what the host returns at `up`, not config",
  },
];

/** Each mandatory policy of the pack (and so each Gatekeeper Constraint of the same name). */
const POLICIES: Record<string, { cases?: string[]; unreachable?: string }> = {
  "tracker-runtime": {
    unreachable: "the tracker's runtimeClassName and nodeSelector are constants (components/render/tracker.ts)",
  },
  "required-resources": {
    unreachable: "every container the layer renders states both; tracker overrides merge onto the profile's",
  },
  "max-limits": { cases: ["tracker limits beyond the site's smallest node class"] },
  "limit-ratio": { cases: ["a tracker limit 30x its request"] },
  "allowed-repos": {
    cases: ["a tracker image from a registry the stack does not allow", "a tracker image naming no registry"],
  },
  "disallowed-tags": { cases: ["a tracker image tagged latest"] },
  "host-filesystem": { unreachable: "hostPaths are the profile's, and siteHostPaths allows exactly them" },
  privileged: { unreachable: "every container is rendered with hardenedContainerSecurity" },
  "required-labels": { unreachable: "every pod template carries appLabels" },
  "edge-capacity": { cases: ["more trackers than the site holds (CrossGuard)"] },
  "ha-servers-odd": { cases: ["an even number of HA servers"] },
  "k3s-pinned": { cases: ["a K3s version that is a channel, not a release", "an artifact without its sha256"] },
  "no-plain-secrets": { cases: ["a token in the remote-write URL"] },
};

interface Registration {
  type: string;
  name: string;
  inputs: Json;
}

/** One mock monitor for the whole file: a component left half-built by a throw still finds its parent. */
const registered: Registration[] = [];
pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state: Json = { ...args.inputs };
      if (args.type.startsWith("pulumi-nodejs:dynamic")) state.result = SECRET_PLACEHOLDER;
      if (args.name.endsWith("-agent-token")) state.result = "MockAgentToken0123456789abcdefghijklmnopqrstuvwx";
      else if (args.name.endsWith("-token")) state.result = "MockToken0123456789abcdefghijklmnopqrstuvwxyzAB";
      if (args.name.endsWith("-kubeconfig")) state.stdout = "clusters: []\n";
      if (args.name.endsWith("-ca-hash")) state.stdout = `EDGEFLEET_RESULT {"caHash":"${"c0ffee".padEnd(64, "0")}"}\n`;
      return { id: `${args.name}-id`, state };
    },
    call: (args) => args.inputs,
  },
  "edgefleet",
  "refusals",
  false,
);

let runs = 0;

/** declareStack under the mocks: the error it throws, or what it registered (names as in the spec). */
async function declare(spec: StackSpec, only?: number): Promise<{ error?: Error; registered: Registration[] }> {
  // Resource names are unique per program, and every case declares into the same one: a suffix per run.
  const tag = `-r${runs++}`;
  const sites = only === undefined ? spec.sites : [spec.sites[only]];
  const renamed: StackSpec = { ...spec, sites: sites.map((s) => ({ ...s, name: `${s.name}${tag}` })) };
  const start = registered.length;
  let error: Error | undefined;
  try {
    await declareStack(renamed, localGatekeeperManifest(), ROOT);
  } catch (e) {
    error = e as Error;
  }
  // What was declared before a throw still registers (and serializes its providers) in the background.
  await settle();
  if (error) return { error, registered: [] };
  return { registered: registered.slice(start).map((r) => ({ ...r, name: r.name.split(tag).join("") })) };
}

async function settle(): Promise<void> {
  let last = -1;
  while (registered.length !== last) {
    last = registered.length;
    await new Promise((r) => setTimeout(r, 300));
  }
}

afterAll(async () => {
  await settle();
  await new Promise((r) => setTimeout(r, 1000));
});

/** The Kubernetes objects one site's layer applies (the upstream Gatekeeper install's among them). */
function siteObjects(rs: Registration[], siteName: string): Manifest[] {
  return rs
    .filter((r) => r.name.startsWith(`${siteName}-`) && r.type.startsWith("kubernetes:"))
    .flatMap((r) => (r.type.startsWith("kubernetes:yaml/") ? ((r.inputs.objs ?? []) as Manifest[]) : [r.inputs]))
    .map((m) => unwrapSecrets(m) as Manifest);
}

const trackerOf = (ms: Manifest[]) => ms.find((m) => m.kind === "Deployment" && m.metadata.name === "tracker")!;

/** CrossGuard's verdict on one site's rendered objects, with the policy config policy-config.ts writes. */
function policyVerdict(policy: string, spec: StackSpec, siteName: string, manifests: Manifest[]): string[] {
  const pc = policyConfig(spec) as Json;
  const workloads = manifests.map((m) => workloadOf(pulumiTypeOf(m), m)).filter((w) => w !== undefined);
  if (policy === "edge-capacity") {
    const rcs = new Map(manifests.filter((m) => m.kind === "RuntimeClass").map(runtimeClassOf));
    return edgeCapacityViolations(siteName, workloads, pc["edge-capacity"].sites[siteName], rcs);
  }
  if (policy === "no-plain-secrets")
    return manifests.flatMap((m) => plainSecretViolations(pulumiTypeOf(m), m, SECRETS_DEFAULTS));
  const p = GATEKEEPER_POLICIES.find((x) => x.dir === policy)!;
  return workloads.flatMap((w) => sharedViolations(p, w, siteOptions(pc[policy], siteName)));
}

const baseSpec = () => validate("refusals", validConfig(), SECRET_KEYS);

describe("every later refusal is classified", () => {
  const sources = [
    ...["components", "infra"].flatMap((d) =>
      fs
        .readdirSync(path.join(ROOT, d), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts") && !f.startsWith("scripts"))
        .map((f) => path.join(d, f)),
    ),
    // The image reference the site layer renders is read and pinned here (siteLayerArgs, Site).
    "config/image.ts",
  ];
  const throwSites = sources.flatMap((file) => {
    const lines = fs.readFileSync(path.join(ROOT, file), "utf8").split("\n");
    // A throw's text: its line and the next, or up to the end of its statement (a message split over lines).
    const statement = (i: number) => {
      let j = i + 1;
      while (j < Math.min(lines.length - 1, i + 4) && !/;\s*$/.test(lines[j])) j++;
      return lines.slice(i, /;\s*$/.test(lines[i]) ? i + 2 : j + 1).join("\n");
    };
    return lines.flatMap((l, i) => (/throw new \w+/.test(l) ? [{ file, at: i + 1, text: statement(i) }] : []));
  });

  test("each throw in components/ and infra/ is listed once, and every entry still matches one", () => {
    const unlisted = throwSites.filter(
      (t) => THROWS.filter((e) => e.file === t.file && t.text.includes(e.match)).length !== 1,
    );
    expect(unlisted.map((t) => `${t.file}:${t.at}`)).toEqual([]);
    const stale = THROWS.filter((e) => !throwSites.some((t) => t.file === e.file && t.text.includes(e.match)));
    expect(stale).toEqual([]);
    for (const e of THROWS) expect(!!e.cases !== !!e.unreachable).toBe(true);
  });

  test("each mandatory CrossGuard policy, and so each Gatekeeper Constraint, is listed", () => {
    const mandatory = policies.filter((p) => p.enforcementLevel === "mandatory").map((p) => p.name);
    expect(Object.keys(POLICIES).sort()).toEqual(mandatory.sort());
    // The Constraints are the shared policies' twins (test/policy/agreement.test.ts: same verdicts).
    for (const p of GATEKEEPER_POLICIES) expect(mandatory).toContain(p.dir);
  });

  test("every case named exists", () => {
    const named = [...THROWS.flatMap((e) => e.cases ?? []), ...Object.values(POLICIES).flatMap((p) => p.cases ?? [])];
    expect(named.filter((n) => !CASES.some((c) => c.name === n))).toEqual([]);
  });
});

describe("a large region is declared in batches of sites (program.ts SITES_PER_BATCH)", () => {
  test("the program waits between batches, each after the previous one registered, and declares every site once", async () => {
    const spec = baseSpec();
    expect(spec.sites.length).toBeGreaterThanOrEqual(2);
    const tag = `-r${runs++}`;
    const renamed: StackSpec = { ...spec, sites: spec.sites.map((s) => ({ ...s, name: `${s.name}${tag}` })) };
    const start = registered.length;
    const siteComponents = () =>
      registered
        .slice(start)
        .filter((r) => r.type === "edgefleet:components:Site")
        .map((r) => r.name);
    const atDrain: string[][] = [];
    await declareStack(renamed, localGatekeeperManifest(), ROOT, {
      sitesPerBatch: 1,
      drain: async () => {
        await settle();
        atDrain.push(siteComponents());
      },
    });
    await settle();
    const names = renamed.sites.map((s) => s.name);
    // One wait between each two batches; at each, exactly the sites before it are declared.
    expect(atDrain).toEqual(names.slice(1).map((_, i) => names.slice(0, i + 1)));
    expect(siteComponents()).toEqual(names);
  });
});

describe("the unchanged base is refused by nothing", () => {
  test("it validates, declares, and its rendered sites pass every policy", async () => {
    const spec = baseSpec();
    const d = await declare(spec);
    expect(d.error).toBeUndefined();
    const perSite = ["edge-capacity", "no-plain-secrets", ...GATEKEEPER_POLICIES.map((g) => g.dir)];
    for (const s of spec.sites) {
      const objects = siteObjects(d.registered, s.name);
      expect(objects.some((o) => o.kind === "Deployment" && o.metadata.name === "tracker")).toBe(true);
      for (const p of perSite)
        expect({ site: s.name, p, v: policyVerdict(p, spec, s.name, objects) }).toEqual({ site: s.name, p, v: [] });
    }
    expect(haServerViolations((policyConfig(spec)["ha-servers-odd"] as any).servers)).toEqual([]);
    for (const r of d.registered) expect(k3sPinViolations(r.type, r.inputs, HOST_LAYER_DEFAULTS)).toEqual([]);
  });
});

describe.each(CASES)("$name", (c) => {
  test("is refused later when validate() is bypassed", async () => {
    const spec = baseSpec();
    c.spec(spec);
    const l = c.later;
    // The cases change site 1 (two hosts) or what every site shares: declaring it alone shows the refusal.
    if ("layers" in l) {
      const { error } = await declare(spec, 1);
      expect(error?.message ?? "(declared without error)").toMatch(l.layers);
    } else if ("policy" in l) {
      const name = spec.sites[l.site].name;
      const d = await declare(spec, l.site);
      expect(d.error).toBeUndefined();
      const objects = siteObjects(d.registered, name);
      l.edit?.(objects);
      expect(policyVerdict(l.policy, spec, name, objects)).not.toEqual([]);
    } else {
      const { registered } = await declare(spec, 1);
      expect(l.stackRule(spec, registered)).not.toEqual([]);
    }
  });

  test("is refused first by validate(), at its key", () => {
    const cfg = validConfig();
    c.raw(cfg);
    const ps = problemsOf(cfg);
    const hit = ps.filter((p) => p.startsWith(`${c.key}: `));
    expect({ key: c.key, hit: hit.length > 0, all: ps }).toEqual(expect.objectContaining({ key: c.key, hit: true }));
    if (c.text) expect(hit.join("\n")).toMatch(c.text);
  });
});

describe("the Gatekeeper manifest is checked before anything is declared", () => {
  const yaml = fs.readFileSync(localGatekeeperManifest(), "utf8");
  const gk = planSite(siteResolveArgs(baseSpec().sites[1], "edgefleet:sites[1]")).gatekeeper;
  test("the pinned release passes; one with another container in its controller does not", () => {
    expect(gatekeeperManifestProblem(yaml, gk)).toBeUndefined();
    const sidecar = yaml.replace(
      /(\n {6}containers:\n)/,
      "$1      - name: sidecar\n        image: openpolicyagent/gatekeeper:v3.23.1\n        args: []\n",
    );
    expect(gatekeeperManifestProblem(sidecar, gk)).toMatch(/more than the one container/);
    expect(gatekeeperManifestProblem(yaml.replace(/gatekeeper-audit/g, "gatekeeper-x"), gk)).toMatch(
      /has no Deployment\/gatekeeper-audit/,
    );
  });
});
