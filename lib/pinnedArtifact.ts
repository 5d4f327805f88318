import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/**
 * A file the program needs from outside the repository, pinned by sha256:
 * read from `file` when it is there (air-gapped), else downloaded from `url`
 * and kept at `file` for the next run. A missing file with no URL, a failed
 * download or a digest that does not match is an ArtifactError naming the
 * stack setting and the fix; nothing is kept from a bad download.
 */
export interface PinnedArtifact {
  /** What it is, for messages ("the Gatekeeper v3.23.1 manifest"). */
  what: string;
  /** The stack setting that pins it, for messages ("edgefleet:gatekeeper"). */
  configKey: string;
  /** Absolute path of the local copy. */
  file: string;
  sha256: string;
  url?: string;
}

export class ArtifactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArtifactError";
  }
}

const digest = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

/**
 * The local copy alone: its path when it matches the pin, undefined when
 * there is none; a copy with another digest is an ArtifactError.
 */
export function localPinnedArtifact(a: PinnedArtifact): string | undefined {
  if (!fs.existsSync(a.file)) return undefined;
  const want = a.sha256.toLowerCase();
  const got = digest(fs.readFileSync(a.file));
  if (got === want) return a.file;
  throw new ArtifactError(
    `${a.what} at ${a.file} has sha256 ${got}, but ${a.configKey}.sha256 pins ${want}. ` +
      `Fix: replace the file with the pinned release${a.url ? ` (or delete it to download ${a.url})` : ""}, ` +
      `or pin the file's checksum in ${a.configKey}.sha256 if you meant to change the release.`,
  );
}

/** Returns the artifact's path once its content matches the pin. */
export async function ensurePinnedArtifact(a: PinnedArtifact, fetchImpl: typeof fetch = fetch): Promise<string> {
  const want = a.sha256.toLowerCase();
  const local = localPinnedArtifact(a);
  if (local) return local;
  if (!a.url) {
    throw new ArtifactError(
      `${a.what} is missing: no file at ${a.file} and no ${a.configKey}.url to download it from. ` +
        `Fix: put the release file there (air-gapped), or set ${a.configKey}.url.`,
    );
  }
  let body: Buffer;
  try {
    const res = await fetchImpl(a.url, { signal: AbortSignal.timeout(60_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = Buffer.from(await res.arrayBuffer());
  } catch (e) {
    throw new ArtifactError(
      `${a.what} could not be downloaded from ${a.url} (${(e as Error).message}), and there is no local copy at ${a.file}. ` +
        `Fix: check the URL in ${a.configKey}.url and the network, or put the release file at ${a.file} (air-gapped).`,
    );
  }
  const got = digest(body);
  if (got !== want) {
    throw new ArtifactError(
      `${a.what} downloaded from ${a.url} has sha256 ${got}, but ${a.configKey}.sha256 pins ${want}; it was not kept. ` +
        `Fix: point ${a.configKey}.url at the pinned release, or pin the release you mean in ${a.configKey}.sha256.`,
    );
  }
  fs.mkdirSync(path.dirname(a.file), { recursive: true });
  const tmp = `${a.file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, a.file);
  return a.file;
}
