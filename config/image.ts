/**
 * Container image references: the one parser, for the stack config
 * (config/schema.ts, config/siteLayer.ts), the site layer (components/) and
 * the CrossGuard pack (policies/crossguard). It reads a reference the way
 * Docker and the kubelet do (github.com/distribution/reference,
 * ParseNormalizedNamed):
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path
 *   domain    := host [ ":" port ]           host: DNS name, or [IPv6]
 *   path      := component ( "/" component )*
 *   component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag       := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
 *   digest    := algorithm ":" hex           sha256 (64), sha384 (96), sha512 (128 lower-case hex)
 *
 * and normalizes the name as they do: the first path component is a registry
 * only if it contains "." or ":", is "localhost", or has upper-case letters
 * (which a repository path may not); otherwise the registry is docker.io, and
 * a one-component name there gets "library/". So `nginx:1.2` is
 * docker.io/library/nginx, `edgefleet/x:1` docker.io/edgefleet/x, and
 * `registry.local:5000/a/b@sha256:...` registry.local:5000/a/b.
 * (index.docker.io is docker.io.)
 *
 * Imports nothing, so the CrossGuard pack and Node's type stripping
 * (scripts/inventory/run-ts.sh) load it as it is.
 */

/** An image reference, normalized: where the image is, and which one. */
export interface ImageRef {
  /** Registry host[:port], e.g. "docker.io", "registry.local:5000". */
  registry: string;
  /** Repository path inside the registry, e.g. "library/nginx", "edgefleet/tracker". */
  repository: string;
  tag?: string;
  /** `<algorithm>:<hex>`; wins over the tag when both are given, as it does at pull time. */
  digest?: string;
}

export const DOCKER_HUB = "docker.io";
const LEGACY_DOCKER_HUB = "index.docker.io";
const OFFICIAL_PREFIX = "library/";
/** What a runtime pulls when a reference names no tag and no digest. */
export const DEFAULT_TAG = "latest";
const NAME_MAX = 255;

const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const PATH = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const DOMAIN_LABEL = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(`^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

export class ImageRefError extends Error {
  readonly image: string;
  readonly reason: string;

  constructor(image: string, reason: string, what = "is not a valid image reference") {
    super(`image ${JSON.stringify(image)} ${what}: ${reason}`);
    this.name = "ImageRefError";
    this.image = image;
    this.reason = reason;
  }
}

/** Why `digest` is not one a registry and containerd accept; undefined when it is. */
function digestProblem(digest: string): string | undefined {
  if (!DIGEST.test(digest)) return `digest ${JSON.stringify(digest)} is not <algorithm>:<hex>`;
  const [algorithm, hex] = digest.split(":");
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) {
    return `digest algorithm ${JSON.stringify(algorithm)} is not one of ${Object.keys(DIGEST_HEX_LENGTH).join(", ")}`;
  }
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    return `a ${algorithm} digest is ${length} lower-case hex digits, not ${JSON.stringify(hex)}`;
  }
  return undefined;
}

/** Why `image` is not a reference (undefined when it is), or the reference, normalized. */
function parse(image: unknown): ImageRef | string {
  if (typeof image !== "string") return `it is ${image === null ? "null" : typeof image}, not a string`;
  if (image === "") return "it is empty";
  if (/\s/.test(image)) return "it contains white space";
  if (/^[a-f0-9]{64}$/.test(image)) return "a 64-digit hex string is an image ID, not a name";

  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const problem = digestProblem(digest);
    if (problem) return problem;
  }
  let tag: string | undefined;
  const colon = rest.indexOf(":", rest.lastIndexOf("/") + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      return `tag ${JSON.stringify(tag)} is not a tag (letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-')`;
    }
  }
  if (rest === "") return "it names no repository";
  if (rest.length > NAME_MAX) return `the name is longer than ${NAME_MAX} characters`;

  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first === "localhost" || /[.:]/.test(first) || first !== first.toLowerCase()) {
      registry = first === LEGACY_DOCKER_HUB ? DOCKER_HUB : first;
      repository = rest.slice(slash + 1);
    }
  }
  if (!DOMAIN.test(registry)) return `registry ${JSON.stringify(registry)} is not a host[:port]`;
  if (repository !== repository.toLowerCase()) return `repository ${JSON.stringify(repository)} must be lower-case`;
  if (!PATH.test(repository)) {
    return `repository ${JSON.stringify(repository)} is not a path of lower-case letters and digits joined by '/', '.', '_' or '-'`;
  }
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = OFFICIAL_PREFIX + repository;
  const ref: ImageRef = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** The reference, normalized; throws an ImageRefError saying what is wrong with it. */
export function parseImageRef(image: string): ImageRef {
  const r = parse(image);
  if (typeof r === "string") throw new ImageRefError(image, r);
  return r;
}

/** What is wrong with `image` as a reference; undefined when it is one. */
export function imageRefProblem(image: unknown): string | undefined {
  const r = parse(image);
  return typeof r === "string" ? r : undefined;
}

/** The reference, or undefined when it is not one. */
export function tryParseImageRef(image: unknown): ImageRef | undefined {
  const r = parse(image);
  return typeof r === "string" ? undefined : r;
}

/** registry/repository: the name an allow-list matches, e.g. "docker.io/library/redis". */
export function imageName(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The fully qualified reference: name, then the digest if any, else the tag if any. */
export function formatImageRef(ref: ImageRef): string {
  const name = imageName(ref);
  if (ref.digest !== undefined) return `${name}@${ref.digest}`;
  return ref.tag !== undefined ? `${name}:${ref.tag}` : name;
}

/**
 * Why the reference is not pinned (undefined when it is): neither digest nor
 * tag means the runtime pulls `latest`, and `latest` (in any case) is
 * whatever was pushed last. Both drift between sites, and an offline site
 * cannot re-pull them.
 */
export function unpinnedReason(ref: ImageRef): string | undefined {
  if (ref.digest !== undefined) return undefined;
  if (ref.tag === undefined) return "it has neither tag nor digest, so the runtime pulls latest";
  if (ref.tag.toLowerCase() === DEFAULT_TAG) return `tag ${JSON.stringify(ref.tag)} is not a pin`;
  return undefined;
}

/**
 * The reference a workload runs, from its parts: each part checked, the
 * registry one that reads back as a registry (`edgefleet/x:1` would be
 * docker.io's edgefleet/x), and pinned. Throws an ImageRefError otherwise.
 */
export function pinnedImage(ref: ImageRef): string {
  const registry = ref.registry.replace(/\/+$/, "");
  const tag = ref.tag?.trim() === "" ? undefined : ref.tag;
  const text = formatImageRef({ ...ref, registry, tag });
  if (!DOMAIN.test(registry))
    throw new ImageRefError(text, `registry ${JSON.stringify(registry)} is not a host[:port]`);
  if (!PATH.test(ref.repository)) {
    throw new ImageRefError(
      text,
      `repository ${JSON.stringify(ref.repository)} must be a bare lower-case path, without tag or digest`,
    );
  }
  const parsed = parseImageRef(text);
  if (parsed.registry !== (registry === LEGACY_DOCKER_HUB ? DOCKER_HUB : registry)) {
    throw new ImageRefError(
      text,
      `${JSON.stringify(registry)} reads as the first component of a ${parsed.registry} repository, not as a registry ` +
        `(a registry host has a "." or ":" in it, or is localhost)`,
    );
  }
  const reason = unpinnedReason(parsed);
  if (reason) throw new ImageRefError(text, `${reason}; pin a version tag or a sha256 digest`, "is not pinned");
  return text;
}

/** Whether the image's name lies under one of `allowed` (registries or registry/path prefixes), on a path boundary. */
export function fromAllowedRegistry(image: string | ImageRef, allowed: string[]): boolean {
  const ref = typeof image === "string" ? tryParseImageRef(image) : image;
  if (!ref) return false;
  const name = imageName(ref);
  return allowed.some((prefix) => {
    const p = prefix.replace(/\/+$/, "");
    return name === p || name.startsWith(`${p}/`);
  });
}
