/**
 * /etc/rancher/k3s/registries.yaml (K3s's containerd registry config; the
 * agent reads it from --private-registry, default that path). Format per
 * docs.k3s.io/installation/private-registry: `mirrors.<registry>.endpoint`
 * (+ optional `rewrite`), and `configs.<host>.tls|auth`.
 */
import { toYaml, type YamlValue } from "./yaml";

export interface RegistryMirror {
  /** Endpoints tried in order, e.g. "https://mirror.site.local:5000". */
  endpoints: string[];
  /** Regex -> replacement for image names (K3s `rewrite`). */
  rewrite?: Record<string, string>;
}

export interface RegistryHostConfig {
  tls?: { caFile?: string; certFile?: string; keyFile?: string; insecureSkipVerify?: boolean };
  /** Credentials make the file a secret: pass the rendered text as a secret. */
  auth?: { username?: string; password?: string; token?: string };
}

export interface RegistriesArgs {
  /** Upstream registry name ("docker.io", "ghcr.io", or "*" for all) -> mirror. */
  mirrors: Record<string, RegistryMirror>;
  /** Registry host[:port] -> TLS/auth settings. */
  configs?: Record<string, RegistryHostConfig>;
}

const sortedKeys = <T>(o: Record<string, T>): string[] => Object.keys(o).sort();

export function renderRegistries(args: RegistriesArgs): string {
  const mirrors: Record<string, YamlValue> = {};
  for (const name of sortedKeys(args.mirrors)) {
    const m = args.mirrors[name];
    if (!m.endpoints.length) throw new Error(`registry mirror "${name}" needs at least one endpoint`);
    for (const e of m.endpoints) {
      if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(e))
        throw new Error(`registry mirror "${name}": "${e}" is not an http(s) URL`);
    }
    const entry: Record<string, YamlValue> = { endpoint: [...m.endpoints] };
    if (m.rewrite && Object.keys(m.rewrite).length) {
      const rw: Record<string, YamlValue> = {};
      for (const k of sortedKeys(m.rewrite)) rw[k] = m.rewrite[k];
      entry.rewrite = rw;
    }
    mirrors[name] = entry;
  }
  const doc: Record<string, YamlValue> = { mirrors };
  const configs = args.configs ?? {};
  if (Object.keys(configs).length) {
    const out: Record<string, YamlValue> = {};
    for (const host of sortedKeys(configs)) {
      const c = configs[host];
      const entry: Record<string, YamlValue> = {};
      if (c.auth) {
        const a: Record<string, YamlValue> = {};
        if (c.auth.username !== undefined) a.username = c.auth.username;
        if (c.auth.password !== undefined) a.password = c.auth.password;
        if (c.auth.token !== undefined) a.token = c.auth.token;
        entry.auth = a;
      }
      if (c.tls) {
        const t: Record<string, YamlValue> = {};
        if (c.tls.caFile) t.ca_file = c.tls.caFile;
        if (c.tls.certFile) t.cert_file = c.tls.certFile;
        if (c.tls.keyFile) t.key_file = c.tls.keyFile;
        if (c.tls.insecureSkipVerify) t.insecure_skip_verify = true;
        entry.tls = t;
      }
      out[host] = entry;
    }
    doc.configs = out;
  }
  return toYaml(doc, "Managed by Edgefleet (Pulumi). Local edits are overwritten.");
}
