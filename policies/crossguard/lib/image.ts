/**
 * Image reference parsing shared by the registry and tag rules; mirrors the
 * helpers in gatekeeper/allowed-repos and gatekeeper/disallowed-tags.
 */

/** The repository part of an image reference: no digest, no tag. */
export function repository(image: string): string {
  const parts = image.split("@")[0].split("/");
  const last = parts[parts.length - 1].split(":")[0];
  return [...parts.slice(0, -1), last].join("/");
}

function isRegistryHost(h: string): boolean {
  return h.includes(".") || h.includes(":") || h === "localhost";
}

/** As the container runtime resolves it: `redis` is docker.io/library/redis. */
export function normalizedRepository(image: string): string {
  const name = repository(image);
  if (!name.includes("/")) return `docker.io/library/${name}`;
  if (!isRegistryHost(name.split("/")[0])) return `docker.io/${name}`;
  return name;
}

export function hasDigest(image: string): boolean {
  return image.includes("@");
}

/** The tag: after a colon in the last path segment (an earlier colon is a registry port). */
export function tag(image: string): string | undefined {
  const parts = image.split("/");
  const last = parts[parts.length - 1];
  if (!last.includes(":")) return undefined;
  return last.split(":")[1];
}

/** Registry or registry/path prefix match on a path boundary. */
export function fromAllowedRegistry(image: string, allowed: string[]): boolean {
  const name = normalizedRepository(image);
  return allowed.some((prefix) => {
    const p = prefix.replace(/\/+$/, "");
    return name === p || name.startsWith(`${p}/`);
  });
}
