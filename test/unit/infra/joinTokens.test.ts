import {
  agentTokenFiles,
  caHashOf,
  firstServerTokenFiles,
  joiningServerTokenFiles,
  secureToken,
} from "../../../infra/render/joinTokens";

const SERVER = "ServerSecret0123456789abcdefghijklmnopqrstuvwxyz";
const AGENT = "AgentSecret0123456789abcdefghijklmnopqrstuvwxyzA";
const HASH = "0123456789abcdef".repeat(4);
const secrets = { serverToken: SERVER, agentToken: AGENT };

/** What K3s's parseToken (pkg/clientaccess/token.go) makes of a token: CA hash, user, password. */
function k3sParse(token: string): { caHash: string; user: string; password: string } {
  let t = token.startsWith("K10") ? token : `K10:::${token}`;
  t = t.slice(3);
  const [caHash, creds] = [t.slice(0, t.indexOf("::")), t.slice(t.indexOf("::") + 2)];
  const i = creds.indexOf(":");
  return { caHash, user: creds.slice(0, i), password: creds.slice(i + 1) };
}

describe("join token files", () => {
  it("gives the first server the bare secrets it was initialised with", () => {
    expect(firstServerTokenFiles(secrets)).toEqual({ token: SERVER, agentToken: AGENT });
  });

  it("gives a joining server both secrets in the form that pins the CA, as K3s's users server and node", () => {
    const files = joiningServerTokenFiles(secrets, HASH);
    expect(files).toEqual({ token: `K10${HASH}::server:${SERVER}`, agentToken: `K10${HASH}::node:${AGENT}` });
    expect(k3sParse(files.token)).toEqual({ caHash: HASH, user: "server", password: SERVER });
    expect(k3sParse(files.agentToken!)).toEqual({ caHash: HASH, user: "node", password: AGENT });
  });

  it("gives an agent the agent token only, pinned to the CA, and no agent-token-file", () => {
    const files = agentTokenFiles(AGENT, HASH);
    expect(files).toEqual({ token: `K10${HASH}::node:${AGENT}` });
    expect(JSON.stringify(files)).not.toContain(SERVER);
  });

  it("keeps the secret K3s stores: the bare and the pinned form of one secret are one password", () => {
    // The first server's passwd holds the bare secrets; a joining node's pinned token must carry the same.
    expect(k3sParse(joiningServerTokenFiles(secrets, HASH).token).password).toBe(firstServerTokenFiles(secrets).token);
    expect(k3sParse(agentTokenFiles(AGENT, HASH).token).password).toBe(firstServerTokenFiles(secrets).agentToken);
  });

  it.each([
    ["an uppercase hash", () => secureToken(HASH.toUpperCase(), "node", AGENT), /64 lowercase hex/],
    ["a short hash", () => secureToken(HASH.slice(2), "node", AGENT), /64 lowercase hex/],
    ["an empty hash", () => secureToken("", "server", SERVER), /64 lowercase hex/],
    ["a secret with a colon", () => secureToken(HASH, "node", "abc:defghijklmnopqrs"), /letters and digits/],
    ["a short secret", () => secureToken(HASH, "server", "short"), /letters and digits/],
    ["one secret for both", () => firstServerTokenFiles({ serverToken: SERVER, agentToken: SERVER }), /must differ/],
    [
      "one secret for both, joining",
      () => joiningServerTokenFiles({ serverToken: AGENT, agentToken: AGENT }, HASH),
      /must differ/,
    ],
  ])("refuses %s, without the secret in the message", (_what, build, msg) => {
    let message = "";
    try {
      build();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(msg);
    expect(message).not.toContain(SERVER);
    expect(message).not.toContain(AGENT);
  });
});

describe("caHashOf", () => {
  it("reads the hash from the ca-hash step's result line", () => {
    const out = `noise\nEDGEFLEET_RESULT {"script":"ca-hash","host":"s1","changed":false,"caHash":"${HASH}"}\n`;
    expect(caHashOf("s1", out)).toBe(HASH);
  });

  it.each([
    ["no output", undefined],
    ["no result line", "hello\n"],
    ["a broken line", "EDGEFLEET_RESULT {not json\n"],
    ["no hash", 'EDGEFLEET_RESULT {"script":"ca-hash"}\n'],
    ["a short hash", `EDGEFLEET_RESULT {"caHash":"${HASH.slice(1)}"}\n`],
  ])("refuses %s, naming the host", (_what, out) => {
    expect(() => caHashOf("s1", out)).toThrow(/^s1 reported no cluster CA hash/);
  });
});
