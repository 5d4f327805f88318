/**
 * Config check at program start. One pure function from the raw Pulumi
 * config to the normalized StackSpec, or one ConfigError that lists every
 * problem (stack, key path, fix) so an operator fixes a stack file in one
 * pass and nothing is created from a half-valid config.
 */
import type { z } from "zod";
import { k3sServerCount } from "./k3sDatastore";
import {
  checkMqtt,
  checkMqttSecretsAreSecret,
  mqttSecretsSpec,
  mqttSpec,
  MQTT_SECRETS_KEY,
  profileRunsMqtt,
} from "./mqtt";
import { cidrContainsAddress, parseCidr4 } from "./net";
import { PROFILES } from "./profiles";
import { cpuQuantity, memoryQuantity, parseCpuMillis, parseMemoryMiB } from "./quantity";
import {
  AllowedRegistriesSchema,
  NAMESPACE,
  SiteSchema,
  StackConfigSchema,
  gatekeeperRelease,
  isSshPublicKey,
  type HostSize,
  type HostSpec,
  type RawSize,
  type RawSite,
  type RawStackConfig,
  type SiteSpec,
  type StackSpec,
} from "./schema";
import { capacityMessage } from "./capacity";
import { EDGEFLEET_NODE_LABELS } from "./edgeNodes";
import { fromAllowedRegistry, imageName, parseImageRef, pinnedImage } from "./image";
import { DEFAULT_TRACKER_IMAGE, siteConstraintOptions, siteResolveArgs } from "./siteModel";
import { SIZE_CLASSES, SIZE_CLASS_NAMES, customSizeClass, sizeClassFor, type Resources } from "./sizeClasses";
import { planSite, siteManifests } from "../components/render/site";
import { K3S_CLUSTER_CIDR, K3S_SERVICE_CIDR, nodeKeyProblem } from "../infra/render/k3sConfig";
import { pulumiTypeOf, workloadOf } from "../policies/crossguard/lib/workload";
import { isTracker } from "../policies/crossguard/rules/cluster";
import { sharedViolations } from "../policies/crossguard/rules/pod";
import { SECRETS_DEFAULTS } from "../policies/crossguard/rules/secrets";
import { GATEKEEPER_POLICIES } from "../policies/gatekeeper/catalog";
import { THRESHOLDS } from "../policies/thresholds";

export interface ConfigProblem {
  /** Pulumi config key path, e.g. edgefleet:sites[1].hosts[3].address. */
  path: string;
  problem: string;
  fix: string;
}

export class ConfigError extends Error {
  readonly stackName: string;
  readonly problems: ConfigProblem[];

  constructor(stackName: string, problems: ConfigProblem[]) {
    super(formatProblems(stackName, problems));
    this.name = "ConfigError";
    this.stackName = stackName;
    this.problems = problems;
  }
}

export function formatProblems(stackName: string, problems: ConfigProblem[]): string {
  const n = problems.length;
  const lines = [
    `stack ${stackName}: ${n} problem${n === 1 ? "" : "s"} in the ${NAMESPACE} config; nothing was created.`,
  ];
  problems.forEach((p, i) => {
    lines.push(`  ${i + 1}. [${stackName}] ${p.path}: ${p.problem}`);
    lines.push(`     fix: ${p.fix}`);
  });
  return lines.join("\n");
}

/** Keys whose values Pulumi hands the program as JSON text. */
const STRUCTURED = [
  "k3s",
  "upstream",
  "ssh",
  "registry",
  "sites",
  "upgrade",
  "gatekeeper",
  "lab",
  "allowedRegistries",
  "backupS3",
  "mqtt",
  "mqttSecrets",
].map((k) => `${NAMESPACE}:${k}`);
const SSH_KEY = `${NAMESPACE}:ssh`;
const BACKUP_S3_KEY = `${NAMESPACE}:backupS3`;

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (out === "") out = String(seg);
    else if (/^[A-Za-z_$][\w$]*$/.test(String(seg))) out += `.${String(seg)}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out || `${NAMESPACE}:`;
}

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  return `a ${typeof v} (${show(v)})`;
}

const EXPECTED: Record<string, string> = {
  object: "a mapping of keys",
  array: "a list",
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
};

/** Zod's issues worded as problem + fix. Messages written in schema.ts carry their own "Fix:". */
function fromZodIssue(issue: z.core.$ZodIssue, prefix: PropertyKey[] = []): ConfigProblem[] {
  const path = [...prefix, ...issue.path];
  const at = formatPath(path);
  const fixIdx = issue.message.indexOf(" Fix: ");
  if (fixIdx >= 0) {
    return [
      {
        path: at,
        problem: issue.message.slice(0, fixIdx).replace(/\.$/, ""),
        fix: issue.message.slice(fixIdx + 6),
      },
    ];
  }
  switch (issue.code) {
    case "invalid_type": {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (issue.input === undefined) {
        return [
          {
            path: at,
            problem: "is missing",
            fix: `set it to ${expected} (stacks/Pulumi.edge-general.yaml shows every key).`,
          },
        ];
      }
      return [
        {
          path: at,
          problem: `expected ${expected}, found ${kindOf(issue.input)}`,
          fix: `write ${expected} here.`,
        },
      ];
    }
    case "unrecognized_keys":
      return issue.keys.map((k) => ({
        path: formatPath([...path, k]),
        problem: "unknown key",
        fix: "remove it or correct its spelling (config/schema.ts lists the keys).",
      }));
    case "invalid_value":
      return [
        {
          path: at,
          problem: `${show(issue.input)} is not allowed`,
          fix: `use one of ${issue.values.map((v) => show(v)).join(", ")}.`,
        },
      ];
    case "too_small":
      return [
        {
          path: at,
          problem:
            issue.origin === "array"
              ? `needs at least ${issue.minimum} entr${issue.minimum === 1 ? "y" : "ies"}`
              : `${show(issue.input)} is below the minimum ${String(issue.minimum)}`,
          fix:
            issue.origin === "array" ? "add the missing entries." : `use a value of at least ${String(issue.minimum)}.`,
        },
      ];
    case "too_big":
      return [
        {
          path: at,
          problem: `${show(issue.input)} is above the maximum ${String(issue.maximum)}`,
          fix: `use a value of at most ${String(issue.maximum)}.`,
        },
      ];
    case "invalid_format":
      return [
        {
          path: at,
          problem: `${show(issue.input)} is not a valid ${issue.format}`,
          fix: `write a valid ${issue.format}${issue.format === "url" ? " (http or https)" : ""}.`,
        },
      ];
    case "invalid_key":
    case "invalid_element":
      return issue.issues.flatMap((inner) => fromZodIssue(inner, path));
    default:
      return [
        {
          path: at,
          problem: issue.message,
          fix: "see config/schema.ts for the expected form.",
        },
      ];
  }
}

// ---------------------------------------------------------------------------
// Per-key advice: what to set and how, for a key that is missing or malformed.

const dig = (o: unknown, path: ReadonlyArray<string | number>): unknown =>
  path.reduce<unknown>(
    (v, k) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined),
    o,
  );

const setPlain = (path: string, value: string) => `pulumi config set --path '${path}' ${value}`;

/** The pinning command for a host key, for the host's own address and port (ssh-keyscan's line minus the host). */
function keyscan(path: string, address: unknown, port: unknown): string {
  const where = typeof address === "string" ? address : "<address>";
  const p = typeof port === "number" && port !== 22 ? ` -p ${port}` : "";
  return (
    `pin it: ${setPlain(path, `"$(ssh-keyscan -t ed25519${p} ${where} 2>/dev/null | cut -d' ' -f2-)"`)}, run over a path you trust ` +
    `(or paste /etc/ssh/ssh_host_ed25519_key.pub read on the host), and compare its fingerprint out of band (ssh-keygen -lf).`
  );
}

/**
 * The fix for `path` when it is missing or malformed, where a generic "set it
 * to a string" would not say what or how; undefined where the generic words
 * (or the schema's own) are right.
 */
function keyHint(path: string, ours: Record<string, unknown>): string | undefined {
  const ssh = `${NAMESPACE}:ssh`;
  const secret = `set it as a secret, never in the stack file: pulumi config set --secret --path '${ssh}.privateKey' < <deploy key file> (the key's public half authorized on every host).`;
  if (path === `${ssh}.privateKey`) return secret;
  if (path === `${BACKUP_S3_KEY}.secretKey` || path === `${BACKUP_S3_KEY}.accessKey`)
    return `set it as a secret, never in the stack file: pulumi config set --secret --path '${path}' <value> (the S3 user's key for edgefleet:backupS3.bucket).`;
  if (path === ssh)
    return `add the SSH settings: ${setPlain(`${ssh}.user`, "<login user>")}, then ${secret.replace("set it", "set the key")}`;
  if (path === `${ssh}.user`) return `${setPlain(path, "<login user on the hosts>")}.`;
  if (path === `${NAMESPACE}:region`) return `pulumi config set ${path} <region name, a DNS label such as cn-east>.`;
  if (path === `${ssh}.bastion.hostKey`) {
    const b = dig(ours, [ssh, "bastion"]) as Record<string, unknown> | undefined;
    return keyscan(path, b?.address, b?.port);
  }
  const host = /^edgefleet:sites\[(\d+)\]\.hosts\[(\d+)\]\.(\w+)$/.exec(path);
  if (host) {
    const h = dig(ours, [`${NAMESPACE}:sites`, Number(host[1]), "hosts", Number(host[2])]) as
      Record<string, unknown> | undefined;
    const port = h?.port ?? dig(ours, [ssh, "port"]);
    switch (host[3]) {
      case "hostKey":
        return keyscan(path, h?.address, port);
      case "address":
        return `${setPlain(path, "<the host's IPv4 or IPv6 address>")} (an IP literal: sites need no resolver).`;
      case "role":
        return `${setPlain(path, "agent")}, or server (one per site, or three for HA).`;
      case "size":
        return `${setPlain(path, "2c4g")} (or 4c8g, or { cpu: 8, memory: 16Gi } written in the stack file).`;
      case "name":
        return `${setPlain(path, "<node name, a DNS label unique in the stack>")}.`;
    }
  }
  const artifact = /^edgefleet:(k3s|upstream)\.artifacts\.(\w+)\.(file|sha256)$/.exec(path);
  if (artifact?.[3] === "sha256") {
    const dir = dig(ours, [`${NAMESPACE}:${artifact[1]}`, "artifacts", "dir"]);
    const file = dig(ours, [`${NAMESPACE}:${artifact[1]}`, "artifacts", artifact[2], "file"]);
    return `pin the file's checksum: bash scripts/inventory/run-ts.sh scripts/inventory/pin-artifacts.ts stacks/Pulumi.<stack>.yaml (or sha256sum ${typeof dir === "string" ? dir : "<dir>"}/${typeof file === "string" ? file : "<file>"}).`;
  }
  return undefined;
}

/** An `ssh-keyscan` output line ("<host> ssh-ed25519 AAAA..."): the accepted form with the host in front. */
function keyscanLine(v: unknown): boolean {
  if (typeof v !== "string") return false;
  const parts = v.trim().split(/\s+/);
  return parts.length >= 3 && isSshPublicKey(parts.slice(1).join(" "));
}

/** Pulumi passes structured values as JSON text; tests and stack-file readers pass objects. */
function decode(key: string, value: unknown, problems: ConfigProblem[]): unknown {
  if (typeof value !== "string" || !STRUCTURED.includes(key)) return value;
  const t = value.trim();
  if (!t.startsWith("{") && !t.startsWith("[")) return value;
  try {
    return JSON.parse(t);
  } catch {
    problems.push({
      path: key,
      problem: "is not valid structured config",
      fix: "write it as a YAML mapping or list in the stack file.",
    });
    return undefined;
  }
}

function resolveSize(raw: RawSize): HostSize {
  if (typeof raw === "string") return { name: raw, spec: raw, sizeClass: raw, class: SIZE_CLASSES[raw] };
  return {
    name: "custom",
    spec: raw,
    sizeClass: sizeClassFor(raw),
    class: customSizeClass(raw),
  };
}

const fmtCpu = (m: number) => `${Math.round(m)}m`;
const fmtMem = (mib: number) => `${Math.round(mib)}Mi`;
const fmt = (r: Resources) => `${fmtCpu(r.cpuMillis)}/${fmtMem(r.memoryMiB)}`;

/** Server count from the raw roles, so it is reported even when another field of the site is broken. */
function checkServers(raw: unknown, at: string, problems: ConfigProblem[]): void {
  if (raw === null || typeof raw !== "object") return;
  const site = raw as { name?: unknown; hosts?: unknown };
  if (!Array.isArray(site.hosts) || site.hosts.length === 0) return;
  const name = typeof site.name === "string" ? site.name : at;
  const servers = site.hosts.filter(
    (h: unknown) => h !== null && typeof h === "object" && (h as { role?: unknown }).role === "server",
  ).length;
  const count = k3sServerCount(servers);
  if (count.verdict === "refused")
    problems.push({ path: `${at}.hosts`, problem: `site ${name} has ${count.problem}`, fix: count.fix });
}

/**
 * Whether the site's pods fit the nodes it will have: the site layer's own
 * plan (planSite) on the edge-node rule's nodes, judged by config/capacity.ts,
 * the model the site layer and CrossGuard use too. Each problem names the key
 * to change and the value that makes it pass.
 */
function checkCapacity(site: SiteSpec, at: string, allowed: string[], problems: ConfigProblem[]): void {
  const plan = planSite(siteResolveArgs(site, at));
  checkPolicies(site, at, plan, allowed, problems);
  const nodes = plan.nodes;
  if (nodes.length === 0) {
    problems.push({
      path: `${at}.hosts`,
      problem: `site ${site.name} has no node that runs workloads: no agents, no simulated nodes, and its servers run no kubelet`,
      fix: `add a host with role: agent, or set ${at}.disableAgentOnServers to false so the servers run the trackers and the platform.`,
    });
    return;
  }
  const trackerAt = `${at}.overrides.tracker`;
  const set = (key: string, value: string | number) =>
    `pulumi config set --path '${key}' ${typeof value === "number" ? value : JSON.stringify(value)}`;
  for (const p of plan.capacity.problems) {
    const what = capacityMessage(p);
    if (p.kind === "no-node" && p.group.tracker) {
      const servers = site.hosts.filter((h) => h.role === "server");
      const edge = nodes.filter((n) => n.runsTrackers);
      problems.push({
        path: `${at}.hosts`,
        problem:
          edge.length === 0
            ? `no node of site ${site.name} runs trackers: it has no agents and its ${servers.length} server(s) run no kubelet (disableAgentOnServers)`
            : `no node of site ${site.name} can take a tracker: ${edge.map((n) => n.name).join(", ")} carry a NoSchedule/NoExecute taint the tracker does not tolerate`,
        fix:
          edge.length === 0
            ? `add a host with role: agent, or set ${at}.disableAgentOnServers to false so the servers run the trackers.`
            : `remove those taints (or make them PreferNoSchedule), or add an untainted agent.`,
      });
    } else if (p.kind === "too-big" && p.group.tracker) {
      problems.push({
        path: `${trackerAt}.resources.requests`,
        problem: `one tracker pod (${fmt(p.group.requests)} with the RuntimeClass overhead) is larger than any node of site ${site.name} allocates (${fmt(p.largest)})`,
        fix: `lower the tracker requests below ${fmt(p.largest)}, or give the site larger agents.`,
      });
    } else if (p.kind === "limits" && p.group.tracker) {
      problems.push({
        path: `${trackerAt}.resources.limits`,
        problem: `tracker limits ${fmt(p.group.limits)} are above what node ${p.node} of site ${site.name} allocates (${fmt(p.allocatable)})`,
        fix: `lower limits.cpu to at most ${fmtCpu(p.allocatable.cpuMillis)} and limits.memory to at most ${fmtMem(p.allocatable.memoryMiB)}, or give the site larger nodes.`,
      });
    } else if (p.kind === "limits") {
      const node = nodes.find((n) => n.name === p.node);
      problems.push({
        path: node?.kind === "simulated" ? `${at}.kwok.size` : `${node?.path ?? `${at}.hosts`}.size`,
        problem: `${what}: the node is too small for the site layer's ${site.profile} platform`,
        fix: `give ${p.node} a size of at least 2c4g.`,
      });
    } else if (p.kind === "replicas") {
      const explicit = site.overrides.tracker?.replicas !== undefined;
      problems.push({
        path: `${trackerAt}.replicas`,
        problem:
          `${p.replicas} tracker${p.replicas === 1 ? "" : "s"}${explicit ? "" : " (the profile's default for this site)"} x ${fmt(p.group.requests)} ` +
          `(requests plus the wasmedge RuntimeClass overhead) do not fit site ${site.name}'s nodes beside its platform: ` +
          `its ${plan.capacity.trackerNodes} tracker node(s) and ${nodes.length} node(s) in all allocate ${fmt(plan.capacity.allocatable)} ` +
          `and hold at most ${p.max} trackers`,
        fix:
          p.max > 0
            ? `lower replicas to ${p.max} or less (${set(`${trackerAt}.replicas`, p.max)}), lower the tracker requests, or add agents to the site.`
            : "add agents (or larger nodes) to the site: its platform leaves no room for one tracker.",
      });
    } else {
      problems.push({
        path: `${at}.hosts`,
        problem: `site ${site.name}'s nodes cannot hold its platform: ${what}`,
        fix: "add an agent or use larger sizes (2c4g is the smallest the platform is sized for), or lower the tracker replicas.",
      });
    }
  }
}

const K3S_NETWORKS = [
  { name: "pod network (cluster-cidr)", cidr: K3S_CLUSTER_CIDR },
  { name: "service network (service-cidr)", cidr: K3S_SERVICE_CIDR },
];

/** What the host layer refuses, or gets wrong, about a host: asked of the host layer's own rules. */
function checkHosts(site: RawSite, at: string, problems: ConfigProblem[]): void {
  site.hosts.forEach((h, j) => {
    const hostAt = `${at}.hosts[${j}]`;
    for (const net of K3S_NETWORKS) {
      if (cidrContainsAddress(parseCidr4(net.cidr)!, h.address)) {
        problems.push({
          path: `${hostAt}.address`,
          problem: `${h.address} lies in K3s's ${net.name} ${net.cidr}: traffic to it from the cluster would be routed to pods or services, not to the host`,
          fix: "give the host an address outside 10.42.0.0/16 and 10.43.0.0/16 (renumber the host network).",
        });
      }
    }
    for (const key of Object.keys(h.labels ?? {})) {
      const why = EDGEFLEET_NODE_LABELS.includes(key)
        ? `is set by Edgefleet itself (config/edgeNodes.ts decides which nodes run trackers)`
        : nodeKeyProblem(key);
      if (why) {
        problems.push({
          path: `${hostAt}.${formatPath(["labels", key])}`,
          problem: `label ${show(key)} ${why.replace(/^"[^"]*" /, "")}`,
          fix: EDGEFLEET_NODE_LABELS.includes(key)
            ? "remove it from the inventory; to keep trackers off a node, taint it key=value:NoSchedule."
            : "use a key outside kubernetes.io and k8s.io (for example edgefleet.dev/<name>), or one of the well-known topology labels.",
        });
      }
    }
    (h.taints ?? []).forEach((t, k) => {
      const why = nodeKeyProblem(t.key);
      if (why) {
        problems.push({
          path: `${hostAt}.taints[${k}]`,
          problem: `taint key ${why}`,
          fix: "use a key outside kubernetes.io and k8s.io, for example edgefleet.dev/dedicated=<value>:NoSchedule.",
        });
      }
    });
  });
}

/** Key material anywhere in the plain (non-secret) config, as the no-plain-secrets policy would find it downstream. */
function checkPlainSecrets(
  ours: Record<string, unknown>,
  secretKeys: ReadonlySet<string>,
  problems: ConfigProblem[],
): void {
  const patterns = SECRETS_DEFAULTS.valuePatterns.map((p) => new RegExp(p));
  const walk = (v: unknown, path: PropertyKey[]) => {
    if (typeof v === "string") {
      if (patterns.some((p) => p.test(v))) {
        problems.push({
          path: formatPath(path),
          problem: "holds key material (a private key, an access key or a token) in plain text",
          fix: `remove it; a secret goes in with pulumi config set --secret --path '${formatPath(path)}' < <file>, and only where the schema takes one (edgefleet:ssh.privateKey, edgefleet:backupS3, edgefleet:mqttSecrets).`,
        });
      }
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  for (const [k, v] of Object.entries(ours)) if (!secretKeys.has(k)) walk(v, [k]);
}

/**
 * The site's own workloads, rendered as the site layer renders them, judged
 * by the rules both policy engines share (policies/crossguard/rules/pod.ts,
 * the Gatekeeper Constraints' twins) with the options the site's Constraints
 * get. What a stack can change is the tracker; a violation anywhere else is
 * Edgefleet's bug, and said so.
 */
function checkPolicies(
  site: SiteSpec,
  at: string,
  plan: ReturnType<typeof planSite>,
  allowed: string[],
  problems: ConfigProblem[],
): void {
  const o = site.overrides.tracker;
  const image = o?.image ?? pinnedImage(DEFAULT_TRACKER_IMAGE);
  const options = siteConstraintOptions(site, plan.nodes, allowed);
  const taken = new Set(problems.map((p) => p.path));
  const resAt = `${at}.overrides.tracker.resources`;
  for (const m of siteManifests(plan, image)) {
    const w = workloadOf(pulumiTypeOf(m), m);
    if (!w) continue;
    const tracker = isTracker(w, THRESHOLDS.trackers);
    for (const p of GATEKEEPER_POLICIES) {
      for (const v of sharedViolations(p, w, options)) {
        let path = at;
        let fix = `this is the site layer's own ${w.kind} ${w.name}, which it should never render so: report it as an Edgefleet bug.`;
        if (tracker && p.dir === "limit-ratio") {
          const r = THRESHOLDS.maxLimitRequestRatio;
          const lim = plan.tracker.resources.limits;
          path = resAt;
          fix = `keep each limit within ${r.cpu}x (cpu) and ${r.memory}x (memory) its request: requests of at least ${fmtCpu(Math.ceil(lim.cpuMillis / r.cpu))} cpu and ${fmtMem(Math.ceil(lim.memoryMiB / r.memory))} memory for these limits, or lower the limits.`;
        } else if (tracker && p.dir === "max-limits") {
          const max = THRESHOLDS.maxLimitsBySizeClass[options.sizeClass];
          path = `${resAt}.limits`;
          fix = `lower the tracker limits to at most ${fmtCpu(max.cpuMillis)} cpu and ${fmtMem(max.memoryMiB)} memory, what one of the site's ${options.sizeClass} nodes allocates.`;
        } else if (tracker && (p.dir === "allowed-repos" || p.dir === "disallowed-tags")) {
          path = `${at}.overrides.tracker.image`;
          fix = "pin a tag or digest, from an allowed registry (edgefleet:allowedRegistries).";
        }
        if (taken.has(path)) continue;
        taken.add(path);
        problems.push({
          path,
          problem: `the ${p.dir} policy (Gatekeeper and CrossGuard) would refuse ${w.kind} ${w.name}: ${v}`,
          fix,
        });
      }
    }
  }
}

/**
 * The tracker image against what both policy engines will admit: the site
 * layer's own images and the stack's edgefleet:allowedRegistries, matched by
 * the allowed-repos rule's own function.
 */
function checkTrackerImage(site: RawSite, at: string, allowed: string[], problems: ConfigProblem[]): void {
  const image = site.overrides.tracker?.image;
  if (image === undefined) return;
  try {
    // The site layer's own reading of it, which refuses what it cannot render.
    pinnedImage(parseImageRef(image));
  } catch (e) {
    problems.push({
      path: `${at}.overrides.tracker.image`,
      problem: `the site layer cannot use tracker image ${show(image)}: ${(e as Error).message}`,
      fix: "write it as registry/repository:tag or registry/repository@sha256:<64 hex>, pinned (a name without a registry is Docker Hub's, as config/image.ts reads it).",
    });
    return;
  }
  if (fromAllowedRegistry(image, [...THRESHOLDS.allowedRegistries, ...allowed])) return;
  const repo = imageName(parseImageRef(image));
  const host = repo.split("/")[0];
  // All of docker.io would admit anyone's image: suggest the repository there, the registry elsewhere.
  const entry = host === "docker.io" ? repo : host;
  const key = `${NAMESPACE}:allowedRegistries`;
  problems.push({
    path: `${at}.overrides.tracker.image`,
    problem: `tracker image ${show(image)} (${repo}) is not from an allowed registry; Gatekeeper and CrossGuard admit the site layer's own images and ${key} (${allowed.length ? show(allowed) : "not set"}) only`,
    fix: `allow its registry for the stack: pulumi config set --path '${key}[${allowed.length}]' ${entry} (or a registry/path prefix), or use an image from an allowed registry.`,
  });
}

/**
 * backup configures K3s's etcd snapshots, which exist on embedded-etcd sites
 * only (config/k3sDatastore.ts): a one-server K3s site keeps its state in
 * SQLite, and an upstream site runs its own etcd, not K3s's.
 */
function checkBackup(site: RawSite, at: string, problems: ConfigProblem[]): void {
  if (!site.backup) return;
  const servers = site.hosts.filter((h) => h.role === "server").length;
  const count = k3sServerCount(servers);
  if (site.distribution !== "k3s") {
    problems.push({
      path: `${at}.backup`,
      problem: `site ${site.name} runs the upstream control plane; backup configures K3s's embedded-etcd snapshots, which it does not have`,
      fix: "remove backup from the site (it applies to distribution: k3s with three or more servers).",
    });
  } else if (count.verdict === "runs" && count.datastore === "sqlite") {
    problems.push({
      path: `${at}.backup`,
      problem: `site ${site.name} has one server, which keeps the cluster's state in SQLite; K3s takes etcd snapshots only on embedded-etcd sites`,
      fix: 'remove backup from the site and back up /var/lib/rancher/k3s/server/db/state.db and the server token by hand (README "Backups and restore"), or run three servers so the site uses embedded etcd.',
    });
  }
}

/**
 * acknowledgeServerRemoval names servers being removed: never a host the site
 * still lists (the acknowledgement would let a later removal of it through
 * unasked), and only on K3s sites (the guard is K3s's).
 */
function checkAcknowledgedRemovals(site: RawSite, at: string, problems: ConfigProblem[]): void {
  const hosts = new Map(site.hosts.map((h) => [h.name, h]));
  site.acknowledgeServerRemoval.forEach((name, k) => {
    const host = hosts.get(name);
    if (host) {
      problems.push({
        path: `${at}.acknowledgeServerRemoval[${k}]`,
        problem: `names ${show(name)}, which site ${site.name} still lists as a host (role: ${host.role})`,
        fix: "list only servers this change removes from hosts; once they are gone, delete the entry before a host of that name is added again.",
      });
    }
  });
  if (site.distribution !== "k3s" && site.acknowledgeServerRemoval.length > 0) {
    problems.push({
      path: `${at}.acknowledgeServerRemoval`,
      problem: `site ${site.name} runs the upstream control plane, whose single server is not guarded`,
      fix: "remove acknowledgeServerRemoval from the site; it applies to distribution: k3s.",
    });
  }
}

function checkSite(site: RawSite, at: string, problems: ConfigProblem[]): void {
  const tracker = site.overrides.tracker;
  const base = PROFILES[site.profile].tracker.resources;
  const req = {
    cpu: tracker?.resources?.requests?.cpu ?? cpuQuantity(base.requests.cpuMillis),
    memory: tracker?.resources?.requests?.memory ?? memoryQuantity(base.requests.memoryMiB),
  };
  const lim = {
    cpu: tracker?.resources?.limits?.cpu ?? cpuQuantity(base.limits.cpuMillis),
    memory: tracker?.resources?.limits?.memory ?? memoryQuantity(base.limits.memoryMiB),
  };
  const reqR: Resources = {
    cpuMillis: parseCpuMillis(req.cpu) ?? 0,
    memoryMiB: parseMemoryMiB(req.memory) ?? 0,
  };
  const limR: Resources = {
    cpuMillis: parseCpuMillis(lim.cpu) ?? 0,
    memoryMiB: parseMemoryMiB(lim.memory) ?? 0,
  };
  const resAt = `${at}.overrides.tracker.resources`;
  if (reqR.cpuMillis > limR.cpuMillis) {
    problems.push({
      path: `${resAt}.requests.cpu`,
      problem: `tracker CPU request ${show(req.cpu)} is above its limit ${show(lim.cpu)} (Kubernetes rejects such a pod)`,
      fix: `lower requests.cpu to at most ${show(lim.cpu)} or raise limits.cpu.`,
    });
  }
  if (reqR.memoryMiB > limR.memoryMiB) {
    problems.push({
      path: `${resAt}.requests.memory`,
      problem: `tracker memory request ${show(req.memory)} is above its limit ${show(lim.memory)} (Kubernetes rejects such a pod)`,
      fix: `lower requests.memory to at most ${show(lim.memory)} or raise limits.memory.`,
    });
  }

  checkHosts(site, at, problems);
  checkAcknowledgedRemovals(site, at, problems);
  checkBackup(site, at, problems);
  if (site.kwok && site.kwok.nodes > 0) {
    if (site.distribution !== "upstream") {
      problems.push({
        path: `${at}.kwok`,
        problem: `site ${site.name} runs K3s, but simulated (kwok) nodes are registered next to the upstream control plane only, so they would never exist`,
        fix: "remove kwok from the site, or use distribution: upstream (one server, simulated edge nodes).",
      });
    }
    if (site.kwok.size !== undefined && typeof site.kwok.size !== "string") {
      problems.push({
        path: `${at}.kwok.size`,
        problem: "simulated nodes are registered with a named size class's capacity and allocatable only",
        fix: `use one of ${SIZE_CLASS_NAMES.join(", ")}.`,
      });
    }
  }

  const mon = site.overrides.monitoring;
  if (mon?.remoteWriteUrl && /^[a-z]+:\/\/[^/]*@/i.test(mon.remoteWriteUrl)) {
    problems.push({
      path: `${at}.overrides.monitoring.remoteWriteUrl`,
      problem: "the URL carries credentials, which would sit in plain text in Prometheus's ConfigMap",
      fix: "drop the user:password@ part and let the central store admit the site another way (mTLS, network policy).",
    });
  }
  if (mon?.agentMode && !mon.remoteWriteUrl) {
    problems.push({
      path: `${at}.overrides.monitoring.remoteWriteUrl`,
      problem: "Prometheus agent mode keeps no local data, so without a remote-write target every sample is dropped",
      fix: "set remoteWriteUrl to the central store's write endpoint, or set agentMode: false.",
    });
  }
}

interface Seen {
  path: string;
  site: string;
}

/** Duplicate host names and addresses across the whole stack, read from the raw input so they show even beside other errors. */
function checkDuplicates(rawSites: unknown, problems: ConfigProblem[]): void {
  if (!Array.isArray(rawSites)) return;
  const siteNames = new Map<string, string>();
  const names = new Map<string, Seen>();
  const addresses = new Map<string, Seen>();
  rawSites.forEach((s: unknown, i) => {
    if (s === null || typeof s !== "object") return;
    const site = s as Record<string, unknown>;
    const siteAt = `${NAMESPACE}:sites[${i}]`;
    const siteName = typeof site.name === "string" ? site.name : `#${i}`;
    if (typeof site.name === "string") {
      const prev = siteNames.get(site.name);
      if (prev)
        problems.push({
          path: `${siteAt}.name`,
          problem: `site name ${show(site.name)} is already used by ${prev}`,
          fix: "give each site of the stack its own name.",
        });
      else siteNames.set(site.name, siteAt);
    }
    if (!Array.isArray(site.hosts)) return;
    site.hosts.forEach((h: unknown, j) => {
      if (h === null || typeof h !== "object") return;
      const host = h as Record<string, unknown>;
      const hostAt = `${siteAt}.hosts[${j}]`;
      if (typeof host.name === "string") {
        const prev = names.get(host.name);
        if (prev) {
          problems.push({
            path: `${hostAt}.name`,
            problem: `host name ${show(host.name)} is already used by ${prev.path} (site ${prev.site}); node names and Pulumi resource names must be unique in a stack`,
            fix: "rename one of the two hosts.",
          });
        } else names.set(host.name, { path: hostAt, site: siteName });
      }
      if (typeof host.address === "string") {
        const prev = addresses.get(host.address);
        if (prev) {
          problems.push({
            path: `${hostAt}.address`,
            problem: `address ${host.address} is already used by ${prev.path} (site ${prev.site}); two inventory entries would drive one machine`,
            fix: "correct the address, or remove the duplicate entry.",
          });
        } else addresses.set(host.address, { path: hostAt, site: siteName });
      }
    });
  });
}

function checkLab(cfg: RawStackConfig, problems: ConfigProblem[]): void {
  const lab = cfg[`${NAMESPACE}:lab`];
  if (!lab) return;
  const sites = cfg[`${NAMESPACE}:sites`];
  const hostCount = sites.reduce((n, s) => n + s.hosts.length, 0);
  const kwokCount = sites.reduce((n, s) => n + (s.kwok?.nodes ?? 0), 0);
  if (lab.hosts !== hostCount) {
    problems.push({
      path: `${NAMESPACE}:lab.hosts`,
      problem: `the lab creates ${lab.hosts} hosts but the inventory lists ${hostCount}`,
      fix: `set lab.hosts to ${hostCount}, or add/remove inventory hosts to match.`,
    });
  }
  if (lab.kwokNodes !== kwokCount) {
    problems.push({
      path: `${NAMESPACE}:lab.kwokNodes`,
      problem: `lab.kwokNodes is ${lab.kwokNodes} but the sites' kwok.nodes add up to ${kwokCount}`,
      fix: `set lab.kwokNodes to ${kwokCount}, or change the sites' kwok.nodes.`,
    });
  }
  const bridge = parseCidr4(lab.bridgeCidr);
  if (!bridge) return;
  sites.forEach((s, i) =>
    s.hosts.forEach((h, j) => {
      if (!cidrContainsAddress(bridge, h.address)) {
        problems.push({
          path: `${NAMESPACE}:sites[${i}].hosts[${j}].address`,
          problem: `lab host address ${h.address} is outside the lab bridge ${lab.bridgeCidr}`,
          fix: `give lab hosts addresses inside ${lab.bridgeCidr}.`,
        });
      }
    }),
  );
}

/** Each distribution a site names needs its artifacts; the upstream one runs a single server and no agents. */
function checkDistributions(cfg: RawStackConfig, problems: ConfigProblem[]): void {
  const sites = cfg[`${NAMESPACE}:sites`];
  const upstream = cfg[`${NAMESPACE}:upstream`];
  sites.forEach((s, i) => {
    const at = `${NAMESPACE}:sites[${i}]`;
    if (s.distribution === "k3s" && !cfg[`${NAMESPACE}:k3s`]) {
      problems.push({
        path: `${NAMESPACE}:k3s`,
        problem: `site ${s.name} runs K3s but the stack has no edgefleet:k3s (version and artifacts)`,
        fix: "add edgefleet:k3s with the K3s version and its air-gap artifacts and checksums.",
      });
    }
    if (s.distribution === "upstream") {
      if (!upstream) {
        problems.push({
          path: `${NAMESPACE}:upstream`,
          problem: `site ${s.name} runs the upstream control plane but the stack has no edgefleet:upstream`,
          fix: "add edgefleet:upstream with the Kubernetes version and the binaries' checksums, or use distribution: k3s.",
        });
      }
      const servers = s.hosts.filter((h) => h.role === "server").length;
      if (servers !== 1 || s.hosts.length !== 1) {
        problems.push({
          path: `${at}.hosts`,
          problem: `the upstream control plane runs on exactly one server host; site ${s.name} lists ${s.hosts.length} host(s)`,
          fix: "list one host with role: server, and use kwok for edge nodes, or use distribution: k3s.",
        });
      }
    }
    if (
      s.distribution === "upstream" &&
      s.kwok &&
      s.kwok.nodes > 0 &&
      (!upstream?.artifacts.kwok || !upstream?.artifacts.kwokStages)
    ) {
      problems.push({
        path: `${NAMESPACE}:upstream.artifacts.kwok`,
        problem: `site ${s.name} has simulated (kwok) nodes but edgefleet:upstream.artifacts has no kwok and kwokStages`,
        fix: "add the kwok binary and its stages file (tools/go/kwok builds both) to edgefleet:upstream.artifacts.",
      });
    }
  });
}

function normalizeSite(
  s: RawSite,
  ssh: { port: number; user: string },
  region: string,
  regionMqtt?: RawStackConfig["edgefleet:mqtt"],
): SiteSpec {
  const hosts: HostSpec[] = s.hosts.map((h) => ({
    name: h.name,
    address: h.address,
    port: h.port ?? ssh.port,
    user: h.user ?? ssh.user,
    role: h.role,
    size: resolveSize(h.size),
    labels: h.labels ?? {},
    taints: h.taints ?? [],
    hostKey: h.hostKey.trim(),
  }));
  const site: SiteSpec = {
    name: s.name,
    distribution: s.distribution,
    profile: s.profile,
    serviceMode: s.serviceMode,
    disableAgentOnServers: s.disableAgentOnServers,
    agentTokenGeneration: s.agentTokenGeneration,
    overrides: s.overrides,
    hosts,
    acknowledgeServerRemoval: s.acknowledgeServerRemoval,
  };
  if (s.backup) {
    const b = s.backup;
    site.backup = {
      schedule: b.schedule,
      retention: b.retention,
      compress: b.compress,
      ...(b.s3 ? { s3: { folder: b.s3Folder ?? `${region}/${s.name}` } } : {}),
    };
  }
  if (profileRunsMqtt(s.profile)) site.mqtt = mqttSpec(regionMqtt, s.mqtt);
  if (s.kwok)
    site.kwok = {
      nodes: s.kwok.nodes,
      size: resolveSize(s.kwok.size ?? PROFILES[s.profile].sizeClass),
    };
  return site;
}

function normalize(stackName: string, cfg: RawStackConfig): StackSpec {
  const ssh = cfg[`${NAMESPACE}:ssh`];
  const region = cfg[`${NAMESPACE}:region`];
  const sites: SiteSpec[] = cfg[`${NAMESPACE}:sites`].map((s) =>
    normalizeSite(s, ssh, region, cfg[`${NAMESPACE}:mqtt`]),
  );
  const spec: StackSpec = {
    stack: stackName,
    region: cfg[`${NAMESPACE}:region`],
    ...(cfg[`${NAMESPACE}:k3s`] ? { k3s: cfg[`${NAMESPACE}:k3s`] } : {}),
    ...(cfg[`${NAMESPACE}:upstream`] ? { upstream: cfg[`${NAMESPACE}:upstream`] } : {}),
    ssh: {
      user: ssh.user,
      port: ssh.port,
      privateKey: ssh.privateKey,
      ...(ssh.bastion
        ? {
            bastion: {
              ...ssh.bastion,
              user: ssh.bastion.user ?? ssh.user,
              hostKey: ssh.bastion.hostKey.trim(),
            },
          }
        : {}),
    },
    upgrade: cfg[`${NAMESPACE}:upgrade`],
    hostTransport: cfg[`${NAMESPACE}:hostTransport`],
    hostParallelism: cfg[`${NAMESPACE}:hostParallelism`],
    gatekeeper: gatekeeperRelease(cfg[`${NAMESPACE}:gatekeeper`]),
    allowedRegistries: cfg[`${NAMESPACE}:allowedRegistries`],
    sites,
  };
  const registry = cfg[`${NAMESPACE}:registry`];
  if (registry) {
    spec.registry = {
      mirrors: Object.fromEntries(
        Object.entries(registry.mirrors).map(([name, m]) => [
          name,
          m.rewrite ? { endpoints: m.endpoint, rewrite: m.rewrite } : { endpoints: m.endpoint },
        ]),
      ),
    };
  }
  const s3 = cfg[BACKUP_S3_KEY];
  if (s3) spec.backupS3 = s3;
  const mqttSecrets = mqttSecretsSpec(cfg[MQTT_SECRETS_KEY]);
  if (mqttSecrets) spec.mqttSecrets = mqttSecrets;
  const lab = cfg[`${NAMESPACE}:lab`];
  if (lab) spec.lab = lab;
  return spec;
}

/**
 * Check a stack's raw config and return it normalized, or throw one
 * ConfigError naming every problem. Pure: no I/O, no Pulumi runtime.
 *
 * @param stackName  the Pulumi stack (for messages and StackSpec.stack)
 * @param rawConfig  all config of the stack, keys "namespace:key"; values as
 *                   Pulumi passes them (JSON text for objects) or already parsed
 * @param secretKeys the config keys Pulumi holds as secrets (a key is secret
 *                   when any value under it was set with --secret)
 */
export function validate(
  stackName: string,
  rawConfig: Record<string, unknown>,
  secretKeys: ReadonlySet<string>,
): StackSpec {
  const problems: ConfigProblem[] = [];
  const ours: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rawConfig)) {
    if (key.startsWith(`${NAMESPACE}:`)) ours[key] = decode(key, value, problems);
  }

  const parsed = StackConfigSchema.safeParse(ours, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      for (const p of fromZodIssue(issue)) {
        const value = dig(ours, issue.path as Array<string | number>);
        const hint = keyHint(p.path, ours);
        if (/hostKey$/.test(p.path) && keyscanLine(value)) {
          p.problem = `${show(value)} is ssh-keyscan's output line: the host name in front is not part of the key`;
        }
        const missing = value === undefined && formatPath(issue.path) === p.path;
        if (missing) p.problem = "is missing";
        // Missing, of the wrong type, or a key whose advice needs the host's own address.
        if (hint && (missing || issue.code === "invalid_type" || /(hostKey|privateKey|sha256)$/.test(p.path)))
          p.fix = hint;
        problems.push(p);
      }
    }
  }

  const ssh = ours[SSH_KEY];
  const hasKey = ssh !== null && typeof ssh === "object" && "privateKey" in ssh;
  if (hasKey && !secretKeys.has(SSH_KEY)) {
    problems.push({
      path: `${SSH_KEY}.privateKey`,
      problem: "the SSH private key is stored in plain text in the stack config",
      fix: `remove it from the stack file and set it as a secret: pulumi config set --secret --path '${SSH_KEY}.privateKey' < <key file>.`,
    });
  }

  const s3 = ours[BACKUP_S3_KEY];
  if (s3 !== null && typeof s3 === "object" && !secretKeys.has(BACKUP_S3_KEY)) {
    problems.push({
      path: `${BACKUP_S3_KEY}.secretKey`,
      problem: "the S3 credentials for etcd snapshots are stored in plain text in the stack config",
      fix: `remove accessKey and secretKey from the stack file and set them as secrets: pulumi config set --secret --path '${BACKUP_S3_KEY}.secretKey' <secret key> (and the same for accessKey).`,
    });
  }

  checkMqttSecretsAreSecret(ours, secretKeys, problems);
  checkPlainSecrets(ours, secretKeys, problems);

  // Rules that need a whole site run per site, so one broken site does not hide another's problems.
  const rawSites = ours[`${NAMESPACE}:sites`];
  const allowedParse = AllowedRegistriesSchema.safeParse(ours[`${NAMESPACE}:allowedRegistries`] ?? []);
  const allowed = allowedParse.success ? allowedParse.data : [];
  checkDuplicates(rawSites, problems);
  if (Array.isArray(rawSites)) {
    rawSites.forEach((raw: unknown, i) => {
      const at = `${NAMESPACE}:sites[${i}]`;
      const before = problems.length;
      checkServers(raw, at, problems);
      const site = SiteSchema.safeParse(raw);
      if (!site.success) return;
      checkSite(site.data, at, problems);
      checkTrackerImage(site.data, at, allowed, problems);
      // Capacity is judged on a site that is otherwise sound; SSH settings do not enter it.
      if (problems.length === before)
        checkCapacity(normalizeSite(site.data, { port: 22, user: "-" }, "-"), at, allowed, problems);
    });
  }
  if (parsed.success) {
    parsed.data[`${NAMESPACE}:sites`].forEach((site, i) => {
      if (site.backup?.s3 && !parsed.data[BACKUP_S3_KEY]) {
        problems.push({
          path: `${NAMESPACE}:sites[${i}].backup.s3`,
          problem: `site ${site.name} uploads its snapshots to S3, but the stack has no ${BACKUP_S3_KEY}`,
          fix: `add ${BACKUP_S3_KEY} (endpoint, bucket, and accessKey and secretKey set with pulumi config set --secret --path), or set backup.s3 to false.`,
        });
      }
    });
    checkLab(parsed.data, problems);
    checkMqtt(parsed.data, problems);
    checkDistributions(parsed.data, problems);
  }

  if (problems.length > 0 || !parsed.success) throw new ConfigError(stackName, problems);
  return normalize(stackName, parsed.data);
}
