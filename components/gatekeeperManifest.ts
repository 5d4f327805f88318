/**
 * The Gatekeeper release manifest on this machine: where the stack setting's
 * `file` is (relative to the project root), for the program
 * (ensurePinnedArtifact) and for offline tools and tests (the local copy only).
 * Apart from gatekeeperRelease.ts, which is pure data the config schema
 * imports, because this file needs the project's own location.
 */
import * as path from "path";
import { ArtifactError, localPinnedArtifact, type PinnedArtifact } from "../lib/pinnedArtifact";
import { GATEKEEPER_RELEASE, type GatekeeperReleaseSpec } from "./gatekeeperRelease";

/** The project root: where `file` is relative to (this file is components/gatekeeperManifest.ts). */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** What ensurePinnedArtifact needs to fetch or check a release's manifest. */
export function gatekeeperArtifact(release: GatekeeperReleaseSpec, root: string = PROJECT_ROOT): PinnedArtifact {
  return {
    what: `the Gatekeeper v${release.version} release manifest`,
    configKey: "edgefleet:gatekeeper",
    file: path.resolve(root, release.file),
    sha256: release.sha256,
    url: release.url,
  };
}

/**
 * The default release's manifest, for offline tools and tests: the local copy
 * only (scripts/deps.sh puts it there), checked against the pin.
 */
export function localGatekeeperManifest(release: GatekeeperReleaseSpec = GATEKEEPER_RELEASE): string {
  const a = gatekeeperArtifact(release);
  const local = localPinnedArtifact(a);
  if (!local) {
    throw new ArtifactError(
      `${a.what} is missing at ${a.file}. Fix: run \`bash scripts/deps.sh\`, which puts the toolchain's copy there.`,
    );
  }
  return local;
}
