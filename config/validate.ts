/**
 * Config check at program start. One pure function from the raw Pulumi
 * config to the normalized StackSpec, or one ConfigError that lists every
 * problem (stack, key path, fix) so an operator fixes a stack file in one
 * pass and nothing is created from a half-valid config.
 */
import type { z } from "zod";
import { k3sServerCount } from "./k3sDatastore";
import { cidrContainsAddress, parseCidr4 } from "./net";
import { PROFILES } from "./profiles";
import { cpuQuantity, memoryQuantity, parseCpuMillis, parseMemoryMiB } from "./quantity";
import {
  NAMESPACE,
  SiteSchema,
  StackConfigSchema,
  gatekeeperRelease,
  type HostSize,
  type HostSpec,
  type RawSize,
  type RawSite,
  type RawStackConfig,
  type SiteSpec,
  type StackSpec,
} from "./schema";
import { SIZE_CLASSES, allocatable, customSizeClass, sizeClassFor, type Resources } from "./sizeClasses";

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
const STRUCTURED = ["k3s", "upstream", "ssh", "registry", "sites", "upgrade", "gatekeeper", "lab"].map(
  (k) => `${NAMESPACE}:${k}`,
);
const SSH_KEY = `${NAMESPACE}:ssh`;

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

const fmtCpu = (m: number) => `${m}m`;
const fmtMem = (mib: number) => `${Math.round(mib)}Mi`;

/** How many pods of `req` the node's allocatable holds (the scheduler packs per node, not in sum). */
function podsPerNode(alloc: Resources, req: Resources): number {
  const byCpu = req.cpuMillis > 0 ? Math.floor(alloc.cpuMillis / req.cpuMillis) : Infinity;
  const byMem = req.memoryMiB > 0 ? Math.floor(alloc.memoryMiB / req.memoryMiB) : Infinity;
  return Math.min(byCpu, byMem);
}

interface EdgeNodes {
  what: string;
  allocatable: Resources[];
}

/** Where trackers schedule: agents and simulated nodes; servers only when a site has neither and servers run kubelet. */
function edgeNodesOf(site: RawSite): EdgeNodes {
  const agents = site.hosts.filter((h) => h.role === "agent");
  const kwokNodes = site.kwok?.nodes ?? 0;
  const kwokSize = resolveSize(site.kwok?.size ?? PROFILES[site.profile].sizeClass);
  const alloc = agents.map((h) => allocatable(resolveSize(h.size).class));
  for (let i = 0; i < kwokNodes; i++) alloc.push(allocatable(kwokSize.class));
  if (alloc.length > 0) {
    const parts = [
      agents.length > 0 ? `${agents.length} agent${agents.length === 1 ? "" : "s"}` : "",
      kwokNodes > 0 ? `${kwokNodes} KWOK node${kwokNodes === 1 ? "" : "s"}` : "",
    ];
    return { what: parts.filter(Boolean).join(" and "), allocatable: alloc };
  }
  if (site.disableAgentOnServers)
    return {
      what: "no schedulable nodes (servers run with disableAgentOnServers)",
      allocatable: [],
    };
  const servers = site.hosts.filter((h) => h.role === "server");
  return {
    what: `${servers.length} server${servers.length === 1 ? "" : "s"} (the site has no agents)`,
    allocatable: servers.map((h) => allocatable(resolveSize(h.size).class)),
  };
}

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

  const replicas = tracker?.replicas;
  if (replicas !== undefined && replicas > 0) {
    const nodes = edgeNodesOf(site);
    const fits = nodes.allocatable.reduce((n, a) => n + podsPerNode(a, reqR), 0);
    if (replicas > fits) {
      const total = nodes.allocatable.reduce(
        (s, a) => ({
          cpuMillis: s.cpuMillis + a.cpuMillis,
          memoryMiB: s.memoryMiB + a.memoryMiB,
        }),
        { cpuMillis: 0, memoryMiB: 0 },
      );
      problems.push({
        path: `${at}.overrides.tracker.replicas`,
        problem:
          `${replicas} trackers x ${fmtCpu(reqR.cpuMillis)}/${fmtMem(reqR.memoryMiB)} requested need ${fmtCpu(replicas * reqR.cpuMillis)}/${fmtMem(replicas * reqR.memoryMiB)}, ` +
          `but site ${site.name}'s edge nodes, ${nodes.what}, allocate ${fmtCpu(total.cpuMillis)}/${fmtMem(total.memoryMiB)} and hold at most ${fits}`,
        fix:
          fits > 0
            ? `lower replicas to ${fits} or less, lower the tracker requests, or add agents to the site.`
            : "add agents to the site (or let servers run workloads), or lower the tracker requests.",
      });
    }
  }

  const mon = site.overrides.monitoring;
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
    if (s.kwok && s.kwok.nodes > 0 && (!upstream?.artifacts.kwok || !upstream?.artifacts.kwokStages)) {
      problems.push({
        path: `${NAMESPACE}:upstream.artifacts.kwok`,
        problem: `site ${s.name} has simulated (kwok) nodes but edgefleet:upstream.artifacts has no kwok and kwokStages`,
        fix: "add the kwok binary and its stages file (tools/go/kwok builds both) to edgefleet:upstream.artifacts.",
      });
    }
  });
}

function normalize(stackName: string, cfg: RawStackConfig): StackSpec {
  const ssh = cfg[`${NAMESPACE}:ssh`];
  const sites: SiteSpec[] = cfg[`${NAMESPACE}:sites`].map((s) => {
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
      overrides: s.overrides,
      hosts,
    };
    if (s.kwok)
      site.kwok = {
        nodes: s.kwok.nodes,
        size: resolveSize(s.kwok.size ?? PROFILES[s.profile].sizeClass),
      };
    return site;
  });
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
    gatekeeper: gatekeeperRelease(cfg[`${NAMESPACE}:gatekeeper`]),
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
  if (!parsed.success) problems.push(...parsed.error.issues.flatMap((i) => fromZodIssue(i)));

  const ssh = ours[SSH_KEY];
  const hasKey = ssh !== null && typeof ssh === "object" && "privateKey" in ssh;
  if (hasKey && !secretKeys.has(SSH_KEY)) {
    problems.push({
      path: `${SSH_KEY}.privateKey`,
      problem: "the SSH private key is stored in plain text in the stack config",
      fix: `remove it from the stack file and set it as a secret: pulumi config set --secret --path '${SSH_KEY}.privateKey' < <key file>.`,
    });
  }

  // Rules that need a whole site run per site, so one broken site does not hide another's problems.
  const rawSites = ours[`${NAMESPACE}:sites`];
  checkDuplicates(rawSites, problems);
  if (Array.isArray(rawSites)) {
    rawSites.forEach((raw: unknown, i) => {
      checkServers(raw, `${NAMESPACE}:sites[${i}]`, problems);
      const site = SiteSchema.safeParse(raw);
      if (site.success) checkSite(site.data, `${NAMESPACE}:sites[${i}]`, problems);
    });
  }
  if (parsed.success) {
    checkLab(parsed.data, problems);
    checkDistributions(parsed.data, problems);
  }

  if (problems.length > 0 || !parsed.success) throw new ConfigError(stackName, problems);
  return normalize(stackName, parsed.data);
}
