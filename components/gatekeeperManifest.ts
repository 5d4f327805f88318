/**
 * The Gatekeeper release manifest on this machine: where the stack setting's
 * `file` is (relative to the project root), for the program
 * (ensurePinnedArtifact) and for offline tools and tests (the local copy only).
 * Apart from gatekeeperRelease.ts, which is pure data the config schema
 * imports, because this file needs the project's own location.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ArtifactError, type PinnedArtifact } from "../lib/pinnedArtifact";
import { GATEKEEPER_RELEASE, type GatekeeperReleaseSpec } from "./gatekeeperRelease";

/** The project root: where `file` is relative to (this file is components/gatekeeperRelease.ts). */
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
  if (!fs.existsSync(a.file)) {
    throw new ArtifactError(
      `${a.what} is missing at ${a.file}. Fix: run \`bash scripts/deps.sh\`, which puts the toolchain's copy there.`,
    );
  }
  const got = crypto.createHash("sha256").update(fs.readFileSync(a.file)).digest("hex");
  if (got !== a.sha256)
    throw new ArtifactError(
      `${a.what} at ${a.file} has sha256 ${got}, not the pinned ${a.sha256}. Fix: run \`bash scripts/deps.sh\`.`,
    );
  return a.file;
}
