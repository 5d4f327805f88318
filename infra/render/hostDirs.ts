/**
 * Directories a site's workloads mount from the node (hostPath) and that must
 * exist, owned right, before a pod lands there. The kubelet could create a
 * missing one (`DirectoryOrCreate`), but root-owned, and the site layer's
 * non-root tracker could not write it; so the site layer mounts with type
 * `Directory` (components/render/tracker.ts) and the host layer creates it.
 * The paths and owner come from the site layer itself, so the two cannot drift.
 */
import { getProfile, type ProfileName } from "../../config/profiles";
import { TRACKER_UID } from "../../components/render/tracker";

export interface HostDirectory {
  /** Absolute path on the host. */
  path: string;
  uid: number;
  gid: number;
  /** Octal, e.g. "0750". */
  mode: string;
}

/**
 * What every node that runs trackers (config/edgeNodes.ts) needs at a site
 * of this profile: the factory tracker's SQLite directory, owned by the tracker's UID and group
 * (it runs as TRACKER_UID:TRACKER_UID) and closed to everyone else.
 */
export function workloadHostDirectories(profile: ProfileName): HostDirectory[] {
  const sqlite = getProfile(profile).extras.sqliteHostPath;
  return sqlite ? [{ path: sqlite, uid: TRACKER_UID, gid: TRACKER_UID, mode: "0750" }] : [];
}

const MODE = /^0?[0-7]{3}$/;
const SAFE_PATH = /^(\/[A-Za-z0-9._-]+)+$/;

/** install.sh's HOST_DIRS: one "<mode> <uid>:<gid> <path>" line per directory. */
export function renderHostDirectories(dirs: HostDirectory[]): string {
  return dirs
    .map((d) => {
      if (!SAFE_PATH.test(d.path) || d.path.split("/").some((p) => p === "." || p === "..")) {
        throw new Error(`host directory "${d.path}" must be an absolute path of plain names`);
      }
      if (!MODE.test(d.mode)) throw new Error(`host directory ${d.path}: mode "${d.mode}" is not octal like "0750"`);
      if (![d.uid, d.gid].every((n) => Number.isInteger(n) && n >= 0)) {
        throw new Error(`host directory ${d.path}: uid and gid must be non-negative integers`);
      }
      return `${d.mode} ${d.uid}:${d.gid} ${d.path}\n`;
    })
    .join("");
}
