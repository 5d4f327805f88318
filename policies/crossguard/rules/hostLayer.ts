/**
 * Host-layer rule: K3s is pinned to an exact release and every artifact sent
 * to a host carries a SHA-256. Data driven, so it follows infra/ without code
 * changes: `versionProps` say which resources carry a K3s version in which
 * prop; `artifactLists` say which resources carry a list of artifacts, in
 * which prop, and which fields name them and hold their checksum. A resource
 * matches when its type contains `typePattern`.
 *
 * Defaults cover infra/ as written: VersionGuard {version} and HostCommand
 * {uploads: [{remotePath, sha256}]}, the only resources that carry a K3s
 * version or send artifacts to a host.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { K3S_VERSION, K3S_VERSION_EXAMPLE } from "../../../config/k3sVersion";

export interface VersionProp {
  typePattern: string;
  prop: string;
}

export interface ArtifactList {
  typePattern: string;
  prop: string;
  nameField: string;
  shaField: string;
  /** The list must exist and be non-empty (an install that downloads nothing is not an install). */
  required: boolean;
}

export interface HostLayerConfig {
  versionProps: VersionProp[];
  artifactLists: ArtifactList[];
  /** An exact K3s release; channels (stable, latest) and ranges are not pins. Default: config/k3sVersion.ts's grammar. */
  versionPattern: string;
}

export const HOST_LAYER_DEFAULTS: HostLayerConfig = {
  versionProps: [{ typePattern: "edgefleet:VersionGuard", prop: "version" }],
  artifactLists: [
    {
      typePattern: "edgefleet:HostCommand",
      prop: "uploads",
      nameField: "remotePath",
      shaField: "sha256",
      required: false,
    },
  ],
  versionPattern: K3S_VERSION.source,
};

const SHA256 = /^[0-9a-fA-F]{64}$/;

export function k3sPinViolations(type: string, props: Record<string, any>, cfg: HostLayerConfig): string[] {
  const out: string[] = [];
  for (const v of cfg.versionProps.filter((v) => type.includes(v.typePattern))) {
    const version = props?.[v.prop];
    if (typeof version !== "string" || !new RegExp(cfg.versionPattern).test(version)) {
      out.push(
        `${v.prop} ${JSON.stringify(version ?? null)} is not a pinned K3s release (like ${K3S_VERSION_EXAMPLE})`,
      );
    }
  }
  for (const a of cfg.artifactLists.filter((a) => type.includes(a.typePattern))) {
    const list = props?.[a.prop];
    if (list === undefined || list === null) {
      if (a.required) out.push(`${a.prop} must list every downloaded artifact with its sha256`);
      continue;
    }
    if (!Array.isArray(list) || (a.required && list.length === 0)) {
      out.push(`${a.prop} must list every downloaded artifact with its sha256`);
      continue;
    }
    list.forEach((item: any, i: number) => {
      const name = typeof item?.[a.nameField] === "string" && item[a.nameField] !== "" ? item[a.nameField] : `#${i}`;
      if (typeof item?.[a.shaField] !== "string" || !SHA256.test(item[a.shaField])) {
        out.push(`artifact ${name} has no valid ${a.shaField} (64 hex digits)`);
      }
    });
  }
  return out;
}
