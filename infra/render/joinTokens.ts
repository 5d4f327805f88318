/**
 * What each host's token files hold, from a site's two generated secrets and
 * the cluster CA hash (infra/K3S-NOTES.md §8 has the K3s source behind every
 * rule here). Pure, so the shapes are tested without a cluster
 * (test/unit/infra/joinTokens.test.ts).
 *
 * - The server token (`token-file`) joins servers and keys the bootstrap data
 *   K3s keeps encrypted in its datastore; the agent token
 *   (`agent-token-file`, servers only) is the password of K3s's `node` user,
 *   which agents join with. An agent never holds the server token.
 * - A joining node gets the secure form `K10<CA hash>::<user>:<secret>`: K3s
 *   downloads the CA bundle from the server's /cacerts, hashes it and refuses
 *   a server whose CA does not match, before it sends the secret
 *   (pkg/clientaccess/token.go). The bare form trusts whatever CA answers.
 * - The first server is initialised with the bare secrets (the CA does not
 *   exist before it first starts) and keeps them: K3s strips the
 *   `K10<hash>::<user>:` prefix itself (pkg/passwd EnsureUser, NormalizeToken),
 *   so the bare and the secure form of one secret are the same password.
 */

/** `K10`, 64 lowercase hex digits (sha256 of the CA as K3s hashes it), `::`. */
export const CA_HASH_RE = /^[0-9a-f]{64}$/;
/** What generatedSecret() makes: letters and digits, never `:` or whitespace. */
const SECRET_RE = /^[A-Za-z0-9]{16,256}$/;

export type TokenUser = "server" | "node";

function checkSecret(secret: string, what: string): void {
  // The value itself is never put in a message.
  if (!SECRET_RE.test(secret)) throw new Error(`${what} must be 16-256 letters and digits`);
}

function checkHash(caHash: string): void {
  if (!CA_HASH_RE.test(caHash)) throw new Error(`the cluster CA hash must be 64 lowercase hex digits`);
}

/** `K10<caHash>::<user>:<secret>`, the token form that pins the cluster CA. */
export function secureToken(caHash: string, user: TokenUser, secret: string): string {
  checkHash(caHash);
  checkSecret(secret, `the ${user === "server" ? "server" : "agent"} token`);
  return `K10${caHash}::${user}:${secret}`;
}

/** The token files of one host: `token` for token-file, `agentToken` for agent-token-file (servers only). */
export interface HostTokenFiles {
  token: string;
  agentToken?: string;
}

export interface SiteSecrets {
  serverToken: string;
  agentToken: string;
}

function checkDistinct(s: SiteSecrets): void {
  // Equal, the agent token would be the server token again: K3s's `node` and `server` users share it.
  if (s.serverToken === s.agentToken) throw new Error("the agent token must differ from the server token");
}

/** The first server's files: the bare secrets it was initialised with. */
export function firstServerTokenFiles(s: SiteSecrets): HostTokenFiles {
  checkSecret(s.serverToken, "the server token");
  checkSecret(s.agentToken, "the agent token");
  checkDistinct(s);
  return { token: s.serverToken, agentToken: s.agentToken };
}

/**
 * A joining server's files: both secrets, pinned to the CA. It serves agents
 * (the agent token is its `node` user's password), and K3s's join check on
 * servers fetches the cluster config as `node` (pkg/cluster compareConfig).
 */
export function joiningServerTokenFiles(s: SiteSecrets, caHash: string): HostTokenFiles {
  checkDistinct(s);
  return { token: secureToken(caHash, "server", s.serverToken), agentToken: secureToken(caHash, "node", s.agentToken) };
}

/** An agent's one file (token-file): the agent token, pinned to the CA. It takes no server token at all. */
export function agentTokenFiles(agentToken: string, caHash: string): HostTokenFiles {
  return { token: secureToken(caHash, "node", agentToken) };
}

/**
 * The CA hash from the ca-hash step's stdout (scripts/ca-hash.sh): its one
 * `EDGEFLEET_RESULT` line. Throws, naming the host, when it is missing or
 * not a sha256.
 */
export function caHashOf(host: string, stdout: string | undefined): string {
  const line = (stdout ?? "").split("\n").find((l) => l.startsWith("EDGEFLEET_RESULT "));
  let hash: unknown;
  try {
    hash = line ? (JSON.parse(line.slice("EDGEFLEET_RESULT ".length)) as { caHash?: unknown }).caHash : undefined;
  } catch {
    hash = undefined;
  }
  if (typeof hash !== "string" || !CA_HASH_RE.test(hash)) {
    throw new Error(
      `${host} reported no cluster CA hash (scripts/ca-hash.sh); the other hosts cannot join with a token that pins the CA. ` +
        `Fix: check that K3s runs on ${host} and wrote /var/lib/rancher/k3s/server/token, then run up again.`,
    );
  }
  return hash;
}
