/**
 * A stack's site layer as the Kubernetes objects it would apply, rendered
 * offline: the real `Site` component is constructed for every site of a
 * validated stack file, under Pulumi mocks, so the objects are what
 * `pulumi up` would send to each site's cluster (minus generated secrets,
 * which get a placeholder). Used by test/policy/renderedStacks.test.ts and by
 * render-stack.ts, so that what the test runs `gator test` on and what an
 * operator runs it on are the same objects.
 */
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { gatekeeperPolicies, siteLayerArgs } from "../../config/siteLayer";
import type { StackSpec } from "../../config/schema";
import { parseStackFile } from "../../config/stackFile";
import { validate } from "../../config/validate";
import { localGatekeeperManifest } from "../../components/gatekeeperManifest";
import { Site } from "../../components/site";
import { stringify } from "yaml";

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Manifest = Record<string, any>;

export const STACKS_DIR = path.resolve(__dirname, "..", "..", "stacks");

/** The five cases' stacks (stacks/Pulumi.<name>.yaml); the lab stack is not an example. */
export const EXAMPLE_STACKS = ["logistics-hub", "retail-city", "supply-chain", "edge-general", "factory-iiot"] as const;

/** What generated secrets (RandomSecret) hold in a rendering: 32 characters like the real ones, obviously fake. */
export const SECRET_PLACEHOLDER = "RenderedOfflineNotARealSecret000";
/** What a generated certificate holds in a rendering. */
export const CERT_PLACEHOLDER = "rendered-certificate-placeholder";

export interface RenderedSite {
  stack: string;
  site: string;
  /**
   * Every object the site's layer applies except its Gatekeeper policies:
   * the layer's own resources (Namespaces first) and the upstream Gatekeeper
   * install, as the component transforms it.
   */
  manifests: Manifest[];
  /** gatekeeperPolicies(site, stack): what the site's Gatekeeper is given to enforce. */
  policies: ReturnType<typeof gatekeeperPolicies>;
  /** The policy objects the Gatekeeper component actually applies, to check against `policies`. */
  applied: { templates: Manifest[]; constraints: Manifest[]; expansions: Manifest[] };
}

/** `name` (stacks/Pulumi.<name>.yaml) or a path to a stack file, validated as the program would see it. */
export function loadStack(stackOrFile: string): StackSpec {
  const file = stackOrFile.endsWith(".yaml") ? stackOrFile : path.join(STACKS_DIR, `Pulumi.${stackOrFile}.yaml`);
  const m = /^Pulumi\.(.+)\.yaml$/.exec(path.basename(file));
  if (!m) throw new Error(`${file}: not a stack file (expected Pulumi.<stack>.yaml)`);
  const parsed = parseStackFile(fs.readFileSync(file, "utf8"));
  return validate(m[1], parsed.rawConfig, parsed.secretKeys);
}

interface Registration {
  type: string;
  name: string;
  inputs: Manifest;
}

/** Pulumi mocks hand secret inputs over wrapped; manifests (and tests) read the plain values. */
export function unwrapSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) return unwrapSecrets(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
  }
  return v;
}

const key = (type: string, name: string) => `${type}::${name}`;
const isPolicyObject = (o: Manifest) => /^(templates|constraints|expansion)\.gatekeeper\.sh\//.test(o.apiVersion ?? "");

/**
 * Resolves once every resource in `expected` has reached the mocks: each is
 * registered asynchronously, after its inputs resolve, so construction
 * returning says nothing about registration.
 */
async function registered(seen: Map<string, Registration>, expected: Set<string>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ([...expected].some((k) => !seen.has(k))) {
    if (Date.now() > deadline) {
      const missing = [...expected].filter((k) => !seen.has(k));
      throw new Error(`${what}: resources never registered: ${missing.join(", ")}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

function split(site: string, regs: Registration[]): { manifests: Manifest[]; policyObjects: Manifest[] } {
  const objects: Manifest[] = [];
  for (const r of regs) {
    if (r.type.startsWith("kubernetes:yaml/")) objects.push(...((r.inputs.objs ?? []) as Manifest[]));
    else if (r.type.startsWith("kubernetes:")) {
      if (!r.inputs.metadata?.name) throw new Error(`${site}: ${r.type} ${r.name} has no metadata.name`);
      objects.push(r.inputs);
    }
  }
  // Namespaces first, as a reader (and `kubectl apply -f`) expects them.
  const manifests = objects
    .filter((o) => !isPolicyObject(o))
    .sort((a, b) => Number(b.kind === "Namespace") - Number(a.kind === "Namespace"));
  return { manifests, policyObjects: objects.filter(isPolicyObject) };
}

/**
 * Renders every site of the stack, one after another. Installs Pulumi mocks
 * for the whole process: call it from a test or a script, never from a
 * Pulumi program, and not concurrently with itself.
 */
export async function renderStack(stackOrFile: string): Promise<RenderedSite[]> {
  const spec = loadStack(stackOrFile);
  let seen = new Map<string, Registration>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = unwrapSecrets(args.inputs) as Manifest;
        seen.set(key(args.type, args.name), { type: args.type, name: args.name, inputs });
        // Certificates (SiteCa, ServerCertificate) render as placeholders too: nothing PEM-shaped reaches a manifest.
        const state = args.type.startsWith("pulumi-nodejs:dynamic")
          ? { ...inputs, result: SECRET_PLACEHOLDER, certPem: CERT_PLACEHOLDER, privateKeyPem: SECRET_PLACEHOLDER }
          : inputs;
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "edgefleet",
    spec.stack,
    false,
  );
  const out: RenderedSite[] = [];
  for (const site of spec.sites) {
    seen = new Map();
    const expected = new Set<string>();
    const provider = new k8s.Provider(site.name, { kubeconfig: "{}" });
    new Site(site.name, siteLayerArgs(spec, site, provider, localGatekeeperManifest(spec.gatekeeper)), {
      // Legacy transformations run synchronously for the Site and each descendant as it is constructed:
      // the one complete list of what must reach the mocks before the site is rendered.
      transformations: [
        (a) => {
          expected.add(key(a.type, a.name));
          return undefined;
        },
      ],
    });
    await registered(seen, expected, `${spec.stack}/${site.name}`);
    const regs = [...expected].map((k) => seen.get(k)!);
    const { manifests, policyObjects } = split(site.name, regs);
    out.push({
      stack: spec.stack,
      site: site.name,
      manifests,
      policies: gatekeeperPolicies(site, spec),
      applied: {
        templates: policyObjects.filter((o) => o.kind === "ConstraintTemplate"),
        constraints: policyObjects.filter((o) => o.apiVersion.startsWith("constraints.gatekeeper.sh/")),
        expansions: policyObjects.filter((o) => o.kind === "ExpansionTemplate"),
      },
    });
  }
  return out;
}

/**
 * Writes one site as `gator test -f <dir>` takes it: manifests.yaml (the
 * objects) and policies.yaml (expansions, templates, constraints). `manifests`
 * replaces the site's objects, for a test that edits one.
 */
export function writeSite(dir: string, site: RenderedSite, manifests: Manifest[] = site.manifests): void {
  fs.mkdirSync(dir, { recursive: true });
  // YAML 1.1 quoting: gator reads YAML as Go's yaml does, where an unquoted `yes` (upstream's
  // gatekeeper.sh/system label) is a boolean and makes it reject the Namespace.
  const docs = (objs: Manifest[]) =>
    objs.map((o) => stringify(o, { version: "1.1", blockQuote: "literal", lineWidth: 0 })).join("---\n");
  const p = site.policies;
  fs.writeFileSync(path.join(dir, "manifests.yaml"), docs(manifests));
  fs.writeFileSync(path.join(dir, "policies.yaml"), docs([...p.expansions, ...p.templates, ...p.constraints]));
}
