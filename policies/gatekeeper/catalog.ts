/**
 * The Gatekeeper library's index: one entry per policy folder, with the
 * Constraint kind, the parameter schema, and how the Constraint's parameters
 * come out of policies/thresholds.ts. Templates and sample Constraints are
 * rendered from here (`policies/gatekeeper/generate.ts`), and so are the
 * Constraints a site installs (`renderConstraints`), so the cluster and the
 * CrossGuard pack read the same numbers.
 */
import type { SizeClassName } from "../../config/sizeClasses";
import { THRESHOLDS, type HostPathEntry, type Thresholds } from "../thresholds";

/**
 * An allow-list entry as a site option: a plain string is a writable entry,
 * which is what every entry meant before entries had readOnly, so options
 * written as strings keep their meaning. Constraints carry entries only.
 */
export type HostPathOption = string | HostPathEntry;

export interface SiteConstraintOptions {
  /** Node size class of the site's edge nodes (for max-limits). */
  sizeClass: SizeClassName;
  /** Registries the stack adds to THRESHOLDS.allowedRegistries (e.g. its own registry). */
  extraRegistries?: string[];
  /** hostPath entries the site adds to THRESHOLDS.allowedHostPaths (policies/siteHostPaths.ts). */
  extraHostPaths?: HostPathOption[];
  /** Gatekeeper's enforcementAction; `deny` unless a stack rolls a policy out in `dryrun`/`warn`. */
  enforcementAction?: "deny" | "dryrun" | "warn";
}

type JsonSchema = Record<string, unknown>;

export interface GatekeeperPolicy {
  /** Folder under policies/gatekeeper/. */
  dir: string;
  /** Constraint kind (the template's name is its lower-case form). */
  kind: string;
  title: string;
  description: string;
  /** openAPIV3Schema properties of spec.parameters. */
  parametersSchema: Record<string, JsonSchema>;
  parameters(t: Thresholds, o: SiteConstraintOptions): Record<string, unknown>;
  /** Sample folders under samples/, each with the options its constraint.yaml is rendered with. */
  samples: Record<string, SiteConstraintOptions>;
}

export function hostPathEntry(o: HostPathOption): HostPathEntry {
  return typeof o === "string"
    ? { pathPrefix: o, readOnly: false }
    : { pathPrefix: o.pathPrefix, readOnly: o.readOnly };
}

const stringArray: JsonSchema = { type: "array", items: { type: "string" } };
const hostPathEntries: JsonSchema = {
  type: "array",
  items: {
    type: "object",
    properties: { pathPrefix: { type: "string" }, readOnly: { type: "boolean" } },
    // Both stated: an entry that left readOnly out would be writable by accident.
    required: ["pathPrefix", "readOnly"],
  },
};
const defaultSample: SiteConstraintOptions = { sizeClass: "2c4g" };
/** The cases' images come from registry.example.com: a stack adds its registry like this. */
const exampleRegistrySample: SiteConstraintOptions = { sizeClass: "2c4g", extraRegistries: ["registry.example.com"] };

export const GATEKEEPER_POLICIES: GatekeeperPolicy[] = [
  {
    dir: "tracker-runtime",
    kind: "EdgefleetTrackerRuntime",
    title: "Tracker runtime class and edge placement",
    description:
      "Tracker Pods (in a tracker namespace or carrying the tracker label) must use the WasmEdge RuntimeClass and the edge nodeSelector.",
    parametersSchema: {
      runtimeClassName: { type: "string" },
      nodeSelector: { type: "object", additionalProperties: { type: "string" } },
      namespaces: stringArray,
      label: { type: "object", properties: { key: { type: "string" }, value: { type: "string" } } },
    },
    parameters: (t) => ({
      runtimeClassName: t.trackers.runtimeClassName,
      nodeSelector: t.trackers.nodeSelector,
      namespaces: t.trackers.namespaces,
      label: t.trackers.label,
    }),
    samples: { "tracker-deployment": defaultSample, "tracker-pod": defaultSample },
  },
  {
    dir: "required-resources",
    kind: "EdgefleetRequiredResources",
    title: "Required requests and limits",
    description: "Every container and init container must request and limit CPU and memory.",
    parametersSchema: { resources: stringArray },
    parameters: (t) => ({ resources: t.requiredResources }),
    samples: { deployment: defaultSample, pod: defaultSample },
  },
  {
    dir: "max-limits",
    kind: "EdgefleetMaxLimits",
    title: "Limits fit the node size class",
    description:
      "The sum of a Pod's container limits (and each init container's limits) must fit one node's allocatable resources for the site's size class.",
    parametersSchema: {
      sizeClass: { type: "string" },
      maxCpuMillis: { type: "number" },
      maxMemoryMiB: { type: "number" },
    },
    parameters: (t, o) => ({
      sizeClass: o.sizeClass,
      maxCpuMillis: t.maxLimitsBySizeClass[o.sizeClass].cpuMillis,
      maxMemoryMiB: t.maxLimitsBySizeClass[o.sizeClass].memoryMiB,
    }),
    samples: { "size-2c4g": defaultSample, "size-4c8g": { sizeClass: "4c8g" } },
  },
  {
    dir: "limit-ratio",
    kind: "EdgefleetLimitRatio",
    title: "Bounded limit/request ratio",
    description: "Per container and resource, the limit may be at most maxRatio times the request.",
    parametersSchema: {
      maxRatio: { type: "object", properties: { cpu: { type: "number" }, memory: { type: "number" } } },
    },
    parameters: (t) => ({ maxRatio: { ...t.maxLimitRequestRatio } }),
    samples: { deployment: defaultSample },
  },
  {
    dir: "allowed-repos",
    kind: "EdgefleetAllowedRepos",
    title: "Images from allowed registries",
    description:
      "Container images (normalised, docker.io/library for short names) must come from an allowed registry or registry/path prefix.",
    parametersSchema: { registries: stringArray },
    parameters: (t, o) => ({ registries: [...t.allowedRegistries, ...(o.extraRegistries ?? [])] }),
    samples: { "stack-registry": exampleRegistrySample },
  },
  {
    dir: "disallowed-tags",
    kind: "EdgefleetDisallowedTags",
    title: "No latest or untagged images",
    description: "Images must be pinned by digest or by a tag that is not disallowed; untagged images count as latest.",
    parametersSchema: { tags: stringArray },
    parameters: (t) => ({ tags: t.disallowedTags }),
    samples: { "latest-tag": defaultSample, untagged: defaultSample },
  },
  {
    dir: "host-filesystem",
    kind: "EdgefleetHostFilesystem",
    title: "hostPath only on the allow-list",
    description:
      "hostPath volumes must lie under an allow-listed absolute prefix, without '..' segments; under a read-only prefix, every container must mount them readOnly.",
    parametersSchema: { allowedHostPaths: hostPathEntries },
    parameters: (t, o) => ({
      allowedHostPaths: [...t.allowedHostPaths, ...(o.extraHostPaths ?? [])].map(hostPathEntry),
    }),
    samples: {
      "factory-sqlite": defaultSample,
      "log-shipper": { sizeClass: "2c4g", extraHostPaths: THRESHOLDS.logShipperHostPaths },
    },
  },
  {
    dir: "privileged",
    kind: "EdgefleetPrivileged",
    title: "No privileged containers or privilege escalation",
    description: "Containers must not be privileged and must set allowPrivilegeEscalation: false.",
    parametersSchema: {},
    parameters: () => ({}),
    samples: { privileged: defaultSample, escalation: defaultSample },
  },
  {
    dir: "required-labels",
    kind: "EdgefleetRequiredLabels",
    title: "Required labels",
    description: "Pods and workload Pod templates must carry the required, non-empty labels.",
    parametersSchema: { labels: stringArray },
    parameters: (t) => ({ labels: t.requiredLabels }),
    samples: { cronjob: defaultSample },
  },
];

export function constraintName(p: GatekeeperPolicy): string {
  return `edgefleet-${p.dir}`;
}

/**
 * One Constraint for a policy. Constraints match Pods only: workloads reach
 * them through the ExpansionTemplates in expansion/, so each workload is
 * judged once, on the Pod it would create.
 */
export function renderConstraint(
  p: GatekeeperPolicy,
  o: SiteConstraintOptions,
  t: Thresholds = THRESHOLDS,
): Record<string, unknown> {
  return {
    apiVersion: "constraints.gatekeeper.sh/v1beta1",
    kind: p.kind,
    metadata: { name: constraintName(p) },
    spec: {
      enforcementAction: o.enforcementAction ?? "deny",
      match: {
        kinds: [{ apiGroups: [""], kinds: ["Pod"] }],
        excludedNamespaces: [...t.excludedNamespaces],
      },
      parameters: p.parameters(t, o),
    },
  };
}

/** Every Constraint a site installs, parameterised from THRESHOLDS. */
export function renderConstraints(o: SiteConstraintOptions, t: Thresholds = THRESHOLDS): Record<string, unknown>[] {
  return GATEKEEPER_POLICIES.map((p) => renderConstraint(p, o, t));
}

/** The ConstraintTemplate, with src.rego embedded verbatim as Rego v1. */
export function renderTemplate(p: GatekeeperPolicy, rego: string): Record<string, unknown> {
  return {
    apiVersion: "templates.gatekeeper.sh/v1",
    kind: "ConstraintTemplate",
    metadata: {
      name: p.kind.toLowerCase(),
      annotations: {
        "metadata.gatekeeper.sh/title": p.title,
        description: p.description,
      },
    },
    spec: {
      crd: {
        spec: {
          names: { kind: p.kind },
          validation: {
            openAPIV3Schema: { type: "object", properties: p.parametersSchema },
          },
        },
      },
      targets: [
        {
          target: "admission.k8s.gatekeeper.sh",
          code: [{ engine: "Rego", source: { version: "v1", rego } }],
        },
      ],
    },
  };
}
