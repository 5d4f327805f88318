/**
 * The rules both enforcement points apply, as pure functions of the Pod a
 * workload would create. Each takes exactly the parameters object its
 * Gatekeeper Constraint carries (gatekeeper/catalog.ts renders both from
 * thresholds.ts), and mirrors its src.rego: same inputs, same verdicts
 * (test/policy/agreement.test.ts runs both on the same manifests).
 */
import { type GatekeeperPolicy, type SiteConstraintOptions } from "../../gatekeeper/catalog";
import { THRESHOLDS, type HostPathEntry, type Thresholds } from "../../thresholds";
import {
  fromAllowedRegistry,
  imageName,
  imageRefProblem,
  tryParseImageRef,
  type ImageRef,
} from "../../../config/image";
import { exceeds, parseCpuMillis, parseMemoryMiB, parseQuantity } from "../../../config/quantity";
import { type Container, type Workload, containersOf } from "../lib/workload";

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Params = Record<string, any>;
export type PodRule = (w: Workload, params: Params) => string[];

const cname = (c: Container) => JSON.stringify(c.name ?? "");

export const trackerRuntime: PodRule = (w, p) => {
  const isTracker =
    (w.namespace !== undefined && p.namespaces.includes(w.namespace)) || w.podLabels[p.label.key] === p.label.value;
  if (!isTracker) return [];
  const out: string[] = [];
  const rc = w.podSpec.runtimeClassName ?? "";
  if (rc !== p.runtimeClassName) {
    out.push(`tracker Pod must set runtimeClassName ${JSON.stringify(p.runtimeClassName)}, has ${JSON.stringify(rc)}`);
  }
  for (const [key, want] of Object.entries<string>(p.nodeSelector)) {
    const got = w.podSpec.nodeSelector?.[key] ?? "";
    if (got !== want) out.push(`tracker Pod must set nodeSelector ${key}=${want}, has ${JSON.stringify(got)}`);
  }
  return out;
};

export const requiredResources: PodRule = (w, p) => {
  const out: string[] = [];
  for (const c of containersOf(w.podSpec)) {
    for (const kind of ["requests", "limits"] as const) {
      for (const r of p.resources as string[]) {
        const v = parseQuantity(c.resources?.[kind]?.[r]);
        if (v === undefined || v < 0) out.push(`container ${cname(c)} must set resources.${kind}.${r}`);
      }
    }
  }
  return out;
};

export const maxLimits: PodRule = (w, p) => {
  const out: string[] = [];
  const sum = (f: (q: unknown) => number | undefined, r: string) =>
    (w.podSpec.containers ?? []).reduce((acc, c) => acc + (f(c.resources?.limits?.[r]) ?? 0), 0);
  const cpu = sum(parseCpuMillis, "cpu");
  const mem = sum(parseMemoryMiB, "memory");
  if (exceeds(cpu, p.maxCpuMillis)) {
    out.push(`containers limit ${cpu}m CPU in total; a ${p.sizeClass} node allows at most ${p.maxCpuMillis}m`);
  }
  if (exceeds(mem, p.maxMemoryMiB)) {
    out.push(`containers limit ${mem}Mi memory in total; a ${p.sizeClass} node allows at most ${p.maxMemoryMiB}Mi`);
  }
  for (const c of w.podSpec.initContainers ?? []) {
    const ic = parseCpuMillis(c.resources?.limits?.cpu);
    if (ic !== undefined && exceeds(ic, p.maxCpuMillis)) {
      out.push(`init container ${cname(c)} limits ${ic}m CPU; a ${p.sizeClass} node allows at most ${p.maxCpuMillis}m`);
    }
    const im = parseMemoryMiB(c.resources?.limits?.memory);
    if (im !== undefined && exceeds(im, p.maxMemoryMiB)) {
      out.push(
        `init container ${cname(c)} limits ${im}Mi memory; a ${p.sizeClass} node allows at most ${p.maxMemoryMiB}Mi`,
      );
    }
  }
  return out;
};

export const limitRatio: PodRule = (w, p) => {
  const out: string[] = [];
  for (const c of containersOf(w.podSpec)) {
    for (const [r, ratio] of Object.entries<number>(p.maxRatio)) {
      const req = parseQuantity(c.resources?.requests?.[r]);
      const lim = parseQuantity(c.resources?.limits?.[r]);
      if (req === undefined || lim === undefined) continue;
      if (exceeds(lim, req, ratio)) {
        out.push(
          `container ${cname(c)}: ${r} limit ${c.resources?.limits?.[r]} is more than ${ratio} x its request ${c.resources?.requests?.[r]}`,
        );
      }
    }
  }
  return out;
};

/**
 * A rule on each container's image as the runtime reads it (config/image.ts):
 * `judge` says what is wrong with a readable one; one it cannot read passes
 * neither image rule, since it has no registry and no tag to judge.
 */
function imageRule(judge: (ref: ImageRef, p: Params) => string | undefined): PodRule {
  return (w, p) =>
    containersOf(w.podSpec, true).flatMap((c) => {
      if (typeof c.image !== "string") return [];
      const ref = tryParseImageRef(c.image);
      const what = ref ? judge(ref, p) : `is not a valid image reference (${imageRefProblem(c.image)})`;
      return what ? [`container ${cname(c)} image ${JSON.stringify(c.image)} ${what}`] : [];
    });
}

export const allowedRepos: PodRule = imageRule((ref, p) =>
  fromAllowedRegistry(ref, p.registries)
    ? undefined
    : `(${imageName(ref)}) is not from an allowed registry ${JSON.stringify(p.registries)}`,
);

export const disallowedTags: PodRule = imageRule((ref, p) => {
  if (ref.digest !== undefined) return undefined;
  if (ref.tag === undefined) return "has neither tag nor digest";
  return p.tags.includes(ref.tag) ? `uses a disallowed tag ${JSON.stringify(p.tags)}` : undefined;
});

/** The entries whose prefix admits `path`; none for relative paths and `..` segments, which defeat a prefix test. */
function entriesFor(path: string, entries: HostPathEntry[]): HostPathEntry[] {
  if (!path.startsWith("/") || path.split("/").includes("..")) return [];
  const clean = path.replace(/\/+$/, "");
  return entries.filter((e) => {
    if (typeof e.pathPrefix !== "string") return false;
    const prefix = e.pathPrefix.replace(/\/+$/, "");
    return clean === prefix || clean.startsWith(`${prefix}/`);
  });
}

const describeEntry = (e: HostPathEntry) => (e.readOnly === true ? `${e.pathPrefix} (read-only)` : e.pathPrefix);

/**
 * src.rego's twin. Read-only entries exist for the log shipper, which reads
 * /var/log: a writable mount there could forge or erase other Pods' logs, and
 * an unmounted one proves nothing about how it will be mounted.
 */
export const hostFilesystem: PodRule = (w, p) => {
  const entries = p.allowedHostPaths as HostPathEntry[];
  const containers = containersOf(w.podSpec, true);
  const out: string[] = [];
  for (const v of w.podSpec.volumes ?? []) {
    const path: unknown = v.hostPath?.path;
    if (typeof path !== "string") continue;
    const where = `${JSON.stringify(v.name)} (${JSON.stringify(path)})`;
    const admitting = entriesFor(path, entries);
    if (admitting.length === 0) {
      out.push(
        `volume ${JSON.stringify(v.name)} mounts hostPath ${JSON.stringify(path)}, outside the allowed prefixes [${entries.map(describeEntry).join(", ")}]`,
      );
      continue;
    }
    // A writable entry admitting the path makes it writable: the allow-list is a union, as in PodSecurityPolicy.
    if (admitting.some((e) => e.readOnly !== true)) continue;
    const mountsOf = (c: Container) => (c.volumeMounts ?? []).filter((m) => m.name === v.name);
    for (const c of containers.filter((c) => mountsOf(c).some((m) => m.readOnly !== true))) {
      out.push(
        `container ${cname(c)} mounts hostPath volume ${where} without readOnly: true; its prefix is allowed read-only`,
      );
    }
    if (!containers.some((c) => mountsOf(c).length > 0)) {
      out.push(`hostPath volume ${where} lies under a read-only prefix and no container mounts it readOnly: true`);
    }
  }
  return out;
};

export const privileged: PodRule = (w) => {
  const out: string[] = [];
  for (const c of containersOf(w.podSpec, true)) {
    if (c.securityContext?.privileged === true) out.push(`container ${cname(c)} must not be privileged`);
    if (c.securityContext?.allowPrivilegeEscalation !== false) {
      out.push(`container ${cname(c)} must set securityContext.allowPrivilegeEscalation: false`);
    }
  }
  return out;
};

export const requiredLabels: PodRule = (w, p) =>
  (p.labels as string[]).filter((k) => !w.podLabels[k]).map((k) => `Pod must carry the label ${JSON.stringify(k)}`);

/** Shared rules, keyed by their Gatekeeper policy folder (catalog `dir`). */
export const SHARED_RULES: Record<string, PodRule> = {
  "tracker-runtime": trackerRuntime,
  "required-resources": requiredResources,
  "max-limits": maxLimits,
  "limit-ratio": limitRatio,
  "allowed-repos": allowedRepos,
  "disallowed-tags": disallowedTags,
  "host-filesystem": hostFilesystem,
  privileged,
  "required-labels": requiredLabels,
};

export function sharedRuleFor(p: GatekeeperPolicy): PodRule {
  const rule = SHARED_RULES[p.dir];
  if (!rule) throw new Error(`no CrossGuard rule for Gatekeeper policy ${p.dir}`);
  return rule;
}

/**
 * A shared rule as its Constraint applies it: same parameters (rendered from
 * thresholds for the site's options), same excluded namespaces.
 */
export function sharedViolations(
  p: GatekeeperPolicy,
  w: Workload,
  options: SiteConstraintOptions,
  t: Thresholds = THRESHOLDS,
): string[] {
  if (w.namespace !== undefined && t.excludedNamespaces.includes(w.namespace)) return [];
  return sharedRuleFor(p)(w, p.parameters(t, options));
}
