/**
 * HostCommand's read (`pulumi refresh`) against a real OpenSSH server
 * (test/fixtures/sshd): a step's observe script reports what the host has,
 * an undrifted host gives back exactly the stored values (so refresh shows no
 * diff), a changed file comes back as the diff that makes the next `up` re-run
 * the step, the secret environment never reaches the observe script, and a
 * host that cannot be read is an error naming it, never "no drift".
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { SshConnectionInputs } from "../../../lib/hostCommand";
import { dynamicProvider, observedEnvironment } from "../../../lib/hostCommandRun";
import { sshdConnection, startSshd, Sshd } from "../../fixtures/sshd/sshd";

jest.setTimeout(60000);

let sshd: Sshd;
let dir: string;
// What the engine's provider process gets from a step's __provider (lib/hostCommand.ts PROVIDER_MODULE).
const provider = dynamicProvider as unknown as pulumi.dynamic.ResourceProvider;
type Props = Record<string, unknown>;

const sha = (s: string | Buffer) => crypto.createHash("sha256").update(s).digest("hex");

beforeAll(async () => {
  sshd = await startSshd();
  dir = fs.mkdtempSync(path.join(sshd.dir, "drift-"));
});

afterAll(async () => {
  if (sshd) await sshd.stop();
});

const connection = (over: Partial<SshConnectionInputs> = {}) => sshdConnection(sshd, over);

// A stand-in for infra/scripts/observe.sh: a digest key, a content key, and a
// key it does not observe. It fails if the secret environment reached it.
const OBSERVE = [
  'if [ -n "${S:-}" ]; then echo "the secret reached observe" >&2; exit 9; fi',
  'd() { if [ -f "$1" ]; then sha256sum "$1" | cut -d" " -f1; fi; }',
  'c=$(d "$DIR/conf")',
  'printf \'EDGEFLEET_OBSERVED {"BIN_SHA256":"%s","CONF":"%s","UNDECLARED":"x"}\\n\' "$(d "$DIR/bin")" "${c:+sha256:$c}"',
].join("\n");

const CONF = 'a: 1\nquoted: "it\'s"\n';

async function installed(): Promise<{ id: string; outs: Props; inputs: Props }> {
  const binary = Buffer.from("k3s binary v1\n");
  const inputs: Props = {
    connection: connection(),
    // The step "installs" both files, as install.sh and configure.sh would.
    create: 'printf "k3s binary v1\\n" >"$DIR/bin"; printf "%s" "$CONF" >"$DIR/conf"',
    environment: { DIR: dir, BIN_SHA256: sha(binary), CONF, KEPT: "as declared" },
    secretEnvironment: { S: "secret-token-value" },
    observe: OBSERVE,
    step: "drift/edge-test-01-install",
  };
  const r = await provider.create!(inputs);
  return { id: r.id, outs: r.outs as Props, inputs };
}

describe("read (pulumi refresh)", () => {
  it("gives back exactly the stored state for a host as declared, so refresh shows no diff", async () => {
    const { id, outs, inputs } = await installed();
    const before = sshd.accepted();
    const r = await provider.read!(id, outs);
    expect(sshd.accepted()).toBe(before + 1);
    expect(r.id).toBe(id);
    expect(r.props).toEqual(outs);
    expect((await provider.diff!(id, r.props as Props, inputs)).changes).toBe(false);
  });

  it("reports a changed binary and a changed config as the host has them; the next up sees the change and repairs it", async () => {
    const { id, outs, inputs } = await installed();
    fs.writeFileSync(path.join(dir, "bin"), "someone else's k3s\n");
    fs.writeFileSync(path.join(dir, "conf"), CONF + "edited: true\n");
    const r = await provider.read!(id, outs);
    const env = (r.props as Props).environment as Record<string, string>;
    expect(env).toEqual({
      DIR: dir,
      BIN_SHA256: sha("someone else's k3s\n"),
      CONF: `sha256:${sha(CONF + "edited: true\n")}`,
      KEPT: "as declared",
    });
    // The secret environment and the connection come back as they were stored.
    expect((r.props as Props).secretEnvironment).toEqual(outs.secretEnvironment);
    expect((r.props as Props).connection).toEqual(outs.connection);

    const d = await provider.diff!(id, r.props as Props, inputs);
    expect(d.changes).toBe(true);
    expect(d.replaces ?? []).toEqual([]);
    // The engine's update: the step's script runs again and the host is as declared.
    const u = await provider.update!(id, r.props as Props, inputs);
    const again = await provider.read!(id, u.outs as Props);
    expect(again.props).toEqual(u.outs);
    expect(fs.readFileSync(path.join(dir, "bin"), "utf8")).toBe("k3s binary v1\n");
  });

  it("a missing file comes back empty, which differs from the declared value", async () => {
    const { id, outs } = await installed();
    fs.rmSync(path.join(dir, "conf"));
    const r = await provider.read!(id, outs);
    expect(((r.props as Props).environment as Record<string, string>).CONF).toBe("");
  });

  it("fails naming the host, the step and the cause when the host is unreachable: never 'no drift'", async () => {
    const { id, outs } = await installed();
    const closed = { ...outs, connection: { ...(outs.connection as SshConnectionInputs), port: 1 } };
    await expect(provider.read!(id, closed)).rejects.toThrow(
      /^refresh of drift\/edge-test-01-install: cannot read the host's installed state, so its drift is unknown: host edge-test-01 \(.*@127\.0\.0\.1:1\) is unreachable over SSH/,
    );
  });

  it("fails when the observe script reports nothing", async () => {
    const { id, outs } = await installed();
    await expect(provider.read!(id, { ...outs, observe: "echo hello" })).rejects.toThrow(
      /refresh of drift\/edge-test-01-install on host edge-test-01: its observe script printed no EDGEFLEET_OBSERVED \{json\} line, so its drift is unknown\. Got: hello/,
    );
  });

  it("a step without an observe script keeps its state and opens no SSH session", async () => {
    const { id, outs } = await installed();
    const { observe: _observe, ...plain } = outs;
    const before = sshd.accepted();
    const r = await provider.read!(id, plain);
    expect(r.props).toEqual(plain);
    expect(sshd.accepted()).toBe(before);
  });

  it("an observe script is not part of the diff: adding or changing one re-runs nothing", async () => {
    const { id, outs, inputs } = await installed();
    expect((await provider.diff!(id, outs, { ...inputs, observe: "echo other" })).changes).toBe(false);
    expect((await provider.diff!(id, outs, { ...inputs, observe: undefined })).changes).toBe(false);
  });
});

describe("observedEnvironment", () => {
  const declared = { K3S_SHA256: "ab".repeat(32), CONFIG_YAML: "x: 1\n", EMPTY: "", EDGEFLEET_APPLIED: "f00" };

  it("keeps each declared value the host matches, literally or by the digest of its content", () => {
    expect(
      observedEnvironment(declared, {
        K3S_SHA256: "ab".repeat(32),
        CONFIG_YAML: `sha256:${sha("x: 1\n")}`,
        EMPTY: "",
      }),
    ).toEqual(declared);
  });

  it("puts what the host has in place of what differs, and leaves unobserved or undeclared keys alone", () => {
    expect(
      observedEnvironment(declared, {
        K3S_SHA256: "cd".repeat(32),
        CONFIG_YAML: `sha256:${sha("x: 2\n")}`,
        EMPTY: "sha256:" + sha("y"),
        EDGEFLEET_APPLIED: "not running",
        NOT_DECLARED: "z",
        NOT_A_STRING: 1,
      }),
    ).toEqual({
      K3S_SHA256: "cd".repeat(32),
      CONFIG_YAML: `sha256:${sha("x: 2\n")}`,
      EMPTY: `sha256:${sha("y")}`,
      EDGEFLEET_APPLIED: "not running",
    });
  });

  it("a content key whose declared text is itself 'sha256:...' is not mistaken for a digest of something else", () => {
    const d = { CONTENT: `sha256:${sha("a")}` };
    expect(observedEnvironment(d, { CONTENT: `sha256:${sha(d.CONTENT)}` })).toEqual(d);
    expect(observedEnvironment(d, { CONTENT: `sha256:${sha("b")}` })).toEqual({ CONTENT: `sha256:${sha("b")}` });
  });
});
