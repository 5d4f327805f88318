/**
 * The Gatekeeper release the site layer installs: its upstream manifest
 * (deploy/gatekeeper.yaml of the tag), pinned by version and sha256.
 *
 * It is the one input the program reads from outside the repository, so it is
 * a stack setting (`edgefleet:gatekeeper`) with these defaults: a stack that
 * says nothing gets this release. The manifest is taken from `file` (relative
 * to the project root) when it is there, which is how an air-gapped runner
 * gets it (`scripts/deps.sh` puts the toolchain's copy there), and otherwise
 * downloaded from `url` once and kept at `file`. Either way its sha256 must
 * match, or nothing is declared.
 */
export interface GatekeeperReleaseSpec {
  /** Gatekeeper version, without the leading "v". @default "3.23.1" */
  version: string;
  /** sha256 (hex) of the manifest file. @default the v3.23.1 manifest's */
  sha256: string;
  /** Local copy, relative to the project root. @default "artifacts/gatekeeper/gatekeeper-v<version>.yaml" */
  file: string;
  /** Where to download it when the local copy is missing. @default the tag's deploy/gatekeeper.yaml on GitHub */
  url?: string;
}

/** Gatekeeper's version here and `GATEKEEPER_VERSION` in tools/versions.env (gator) must agree; a test holds them equal. */
export const GATEKEEPER_VERSION = "3.23.1";

export const GATEKEEPER_RELEASE: GatekeeperReleaseSpec = {
  version: GATEKEEPER_VERSION,
  sha256: "3c178abe6de4dcdcd2810c2945468a0d7a15ccf0036e324b73308643e94d6f72",
  file: gatekeeperManifestFile(GATEKEEPER_VERSION),
  url: gatekeeperReleaseUrl(GATEKEEPER_VERSION),
};

/** Where a release's manifest is kept, relative to the project root. */
export function gatekeeperManifestFile(version: string): string {
  return `artifacts/gatekeeper/gatekeeper-v${version}.yaml`;
}

/** Upstream's manifest of a release: deploy/gatekeeper.yaml at its tag. */
export function gatekeeperReleaseUrl(version: string): string {
  return `https://raw.githubusercontent.com/open-policy-agent/gatekeeper/v${version}/deploy/gatekeeper.yaml`;
}
