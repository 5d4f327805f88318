/**
 * What HostCommand's provider puts into state for every step: the provider
 * text is stored in each resource's inputs and outputs, so its size
 * multiplies by steps × hosts (issue 15: 16 KB per step, twice, before the
 * runtime moved to lib/hostCommandRun.ts; 2 KB as a serialized closure). It
 * is loaded here as the engine's provider process loads it: require-from-string
 * in a plain node, then `handler()`.
 */
import { execFileSync } from "child_process";
import { PROVIDER_MODULE } from "../../../lib/hostCommand";

/** Runs `body` in a plain node (not jest's transformer) with `p` the provider loaded from PROVIDER_MODULE. */
function withLoaded(body: string): string {
  const load =
    '(async () => { const p = require("require-from-string")(process.env.PROVIDER_MODULE).handler();' +
    `console.log(await (${body})); })().catch((e) => { console.error(e); process.exit(1); });`;
  return execFileSync(process.execPath, ["-e", load], {
    cwd: process.cwd(),
    encoding: "utf8",
    env: { ...process.env, PROVIDER_MODULE },
  }).trim();
}

describe("HostCommand's provider in state", () => {
  it("is a loader of a few hundred bytes: the runtime and diff() are not in it", () => {
    expect(PROVIDER_MODULE.length).toBeLessThan(256);
    expect(PROVIDER_MODULE).not.toMatch(/StrictHostKeyChecking|sha256sum|hostKey/);
  });

  it("names no path of this checkout, so another checkout keeps the same text", () => {
    expect(PROVIDER_MODULE).not.toContain(process.cwd());
  });

  it("gives the provider process every method, from the runtime Node loads with its own type stripping", () => {
    expect(withLoaded('["configure","diff","create","update","delete","read"].map((m) => typeof p[m]).join(" ")')).toBe(
      "function function function function function function",
    );
  });

  it("diffs through the runtime: a change of what reaches the host is a change, another checkout's upload path is not", () => {
    const olds = {
      connection: { hostName: "h", host: "198.18.0.2", hostKey: "ssh-ed25519 AAAA" },
      create: "true",
      uploads: [{ localPath: "/a/k3s", remotePath: "/opt/k3s", sha256: "ab" }],
    };
    const moved = { ...olds, uploads: [{ ...olds.uploads[0], localPath: "/b/k3s" }] };
    const edited = { ...olds, create: "false" };
    const out = withLoaded(
      `Promise.all([p.diff("id", ${JSON.stringify(olds)}, ${JSON.stringify(moved)}), p.diff("id", ${JSON.stringify(olds)}, ${JSON.stringify(edited)})]).then((r) => JSON.stringify(r.map((d) => d.changes)))`,
    );
    expect(out).toBe("[false,true]");
  });
});
