/**
 * The secrets audit of the lab integration tests (issue 14): every secret
 * value a stack holds, looked for in what an operator or an attacker could
 * read afterwards (exported state without --show-secrets, the engine's
 * output, every host's logs). Shared by lab.test.ts and hostFaults.test.ts.
 */
import * as fs from "fs";
import * as path from "path";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/**
 * Every secret value in a `stack export --show-secrets` deployment, added to
 * `out`. A secret string counts whole; a secret object (a HostCommand's
 * connection) counts by its credential fields only, since it also carries
 * public ones (the pinned host key, the address) that appear in plain state
 * by design.
 */
export function secretValues(node: unknown, out: Set<string> = new Set()): Set<string> {
  const credentials = (v: unknown, key = ""): void => {
    if (typeof v === "string") {
      if (/privateKey|password|token|secret/i.test(key)) out.add(v);
    } else if (Array.isArray(v)) v.forEach((x) => credentials(x, key));
    else if (v && typeof v === "object") Object.entries(v).forEach(([k, x]) => credentials(x, k));
  };
  if (Array.isArray(node)) node.forEach((n) => secretValues(n, out));
  else if (node && typeof node === "object") {
    const o = node as Record<string, unknown>;
    if (o[SECRET_SIG] !== undefined && typeof o.plaintext === "string") {
      const value: unknown = JSON.parse(o.plaintext);
      if (typeof value === "string") out.add(value);
      else credentials(value);
    } else Object.values(o).forEach((v) => secretValues(v, out));
  }
  return out;
}

/** An SSH private key file whole, and each line of its base64 body, which a log would show cut. */
export function keySecrets(file: string, out: Set<string>): void {
  if (!fs.existsSync(file)) return;
  const text = fs.readFileSync(file, "utf8");
  out.add(text.trim());
  for (const line of text.split("\n")) if (line.length >= 40 && !line.startsWith("-----")) out.add(line);
}

/** Every file a lab host logs to: its private /var/log and its sshd log, as [path, text]. */
export function hostLogs(hosts: { fsRoot: string; sshdLog: string }[]): [string, string][] {
  const below = (dir: string): [string, string][] =>
    !fs.existsSync(dir)
      ? []
      : fs.readdirSync(dir, { withFileTypes: true, recursive: true }).flatMap((e) => {
          const p = path.join(e.parentPath, e.name);
          return e.isFile() ? [[p, fs.readFileSync(p, "latin1")] as [string, string]] : [];
        });
  return hosts.flatMap((h) => [
    ...below(path.join(h.fsRoot, "var", "log")),
    [h.sshdLog, fs.existsSync(h.sshdLog) ? fs.readFileSync(h.sshdLog, "latin1") : ""] as [string, string],
  ]);
}

/**
 * Where each secret was found, as "<place>: <first 6 chars>... (<length> chars)".
 * Values under 12 characters are left out: a port or "true" would match by
 * accident, and every generated secret and key is longer.
 */
export function leaks(secrets: Set<string>, places: [string, string][]): string[] {
  const audited = [...secrets].filter((v) => v.length >= 12);
  return places.flatMap(([where, text]) =>
    audited.filter((v) => text.includes(v)).map((v) => `${where}: ${v.slice(0, 6)}... (${v.length} chars)`),
  );
}
