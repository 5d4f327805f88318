/**
 * What a HostCommand step keeps as outputs (lib/hostCommandRun.ts
 * stepOutputs), against a real OpenSSH server (test/fixtures/sshd): not a
 * second copy of its inputs (issue 15: that copy was most of a fleet's
 * state), yet enough for what runs from outputs alone: the next diff, a
 * delete, a refresh. And steps stored by earlier releases, whose outputs
 * were that copy, diff and delete as before.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { dynamicProvider } from "../../../lib/hostCommandRun";
import { sshdConnection, startSshd, Sshd } from "../../fixtures/sshd/sshd";

jest.setTimeout(60000);

let sshd: Sshd;
let dir: string;
const provider = dynamicProvider as unknown as pulumi.dynamic.ResourceProvider;
type Props = Record<string, unknown>;
const sha = (s: string | Buffer) => crypto.createHash("sha256").update(s).digest("hex");
const SECRET = "k10-secret-token-value-0123456789";

beforeAll(async () => {
  sshd = await startSshd();
  dir = fs.mkdtempSync(path.join(sshd.dir, "outputs-"));
});

afterAll(async () => {
  if (sshd) await sshd.stop();
});

const connection = () => sshdConnection(sshd);

/** An install-like step: an artifact, a secret, a delete script; `local` is the artifact on this machine. */
function step(name: string): { inputs: Props; local: string } {
  const local = path.join(dir, `${name}.bin`);
  const content = `artifact of ${name}\n`;
  fs.writeFileSync(local, content);
  return {
    local,
    inputs: {
      connection: connection(),
      create: 'test "$(cat "$DIR/$NAME.remote")" = "artifact of $NAME" && touch "$DIR/$NAME.created"',
      delete: 'rm -f "$DIR/$NAME.remote" && touch "$DIR/$NAME.deleted"',
      environment: { DIR: dir, NAME: name },
      uploads: [{ localPath: local, remotePath: path.join(dir, `${name}.remote`), sha256: sha(content), mode: "0600" }],
      step: `outputs/${name}`,
    },
  };
}

describe("a step's outputs", () => {
  it("keep what delete and refresh need and digests of the rest, not a copy of the inputs", async () => {
    const { inputs } = step("slim");
    const withSecret: Props = { ...inputs, delete: undefined, secretEnvironment: { TOKEN: SECRET } };
    const { outs } = await provider.create!(withSecret);
    expect(Object.keys(outs as Props).sort()).toEqual(
      ["connection", "environment", "reach", "secretEnvironment", "step"].sort(),
    );
    const text = JSON.stringify(outs);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain("artifact of");
    expect(text).not.toContain(".bin");
    // The secret environment is a digest, which HostCommand keeps secret in state.
    expect((outs as Props).secretEnvironment).toMatch(/^[0-9a-f]{64}$/);
    expect(text.length).toBeLessThan(JSON.stringify(withSecret).length);
  });

  it("diff against them like against the inputs: only what reaches the host counts", async () => {
    const { inputs } = step("diff");
    const secretful: Props = { ...inputs, delete: undefined, secretEnvironment: { TOKEN: SECRET } };
    const { id, outs } = await provider.create!(secretful);
    const before = sshd.accepted();
    const changes = async (news: Props) => (await provider.diff!(id, outs as Props, news)).changes;
    const uploads = secretful.uploads as Props[];
    expect(await changes(secretful)).toBe(false);
    // Another checkout: the artifact elsewhere on this machine, same content.
    expect(await changes({ ...secretful, uploads: [{ ...uploads[0], localPath: "/elsewhere/diff.bin" }] })).toBe(false);
    expect(await changes({ ...secretful, uploads: [{ ...uploads[0], sha256: sha("v2") }] })).toBe(true);
    expect(await changes({ ...secretful, environment: { DIR: dir, NAME: "diff", NEW: "1" } })).toBe(true);
    expect(await changes({ ...secretful, secretEnvironment: { TOKEN: `${SECRET}-rotated` } })).toBe(true);
    expect(await changes({ ...secretful, create: "true" })).toBe(true);
    const d = await provider.diff!(id, outs as Props, { ...secretful, triggers: ["v2"] });
    expect(d.replaces).toEqual(["triggers"]);
    // Diffs are local: no SSH session.
    expect(sshd.accepted()).toBe(before);
  });

  it("are all a delete needs: it runs with the artifact gone from this machine, and sends no upload", async () => {
    const { inputs, local } = step("delete");
    const { id, outs } = await provider.create!(inputs);
    expect(fs.existsSync(path.join(dir, "delete.created"))).toBe(true);
    fs.rmSync(local);
    await provider.delete!(id, outs as Props);
    expect(fs.existsSync(path.join(dir, "delete.deleted"))).toBe(true);
    expect(fs.existsSync(path.join(dir, "delete.remote"))).toBe(false);
  });
});

/** A configure-like step: it writes a rendered file longer than a digest and observes it, with no delete. */
function configureStep(name: string, conf: string): Props {
  return {
    connection: connection(),
    create: 'printf "%s" "$CONF" >"$DIR/$NAME.yaml"',
    environment: { DIR: dir, NAME: name, CONF: conf },
    observe: [
      'c=""; if [ -f "$DIR/$NAME.yaml" ]; then c=$(sha256sum "$DIR/$NAME.yaml" | cut -d" " -f1); fi',
      'printf \'EDGEFLEET_OBSERVED {"CONF":"%s"}\\n\' "${c:+sha256:$c}"',
    ].join("\n"),
    step: `outputs/${name}`,
  };
}
// Longer than sha256:<hex>, as a rendered config.yaml or systemd unit is.
const CONF = `node-name: edge-01\nnode-label:\n  - edgefleet.io/site=outputs\n  - topology.kubernetes.io/zone=a\n`;

describe("a step's long environment values", () => {
  it("are kept as their digest by a step without a delete script, and in full by one with it", async () => {
    const { outs } = await provider.create!(configureStep("long", CONF));
    const env = (outs as Props).environment as Record<string, string>;
    expect(env).toEqual({ DIR: dir, NAME: "long", CONF: `sha256:${sha(CONF)}` });
    expect(JSON.stringify(outs)).not.toContain("node-label");

    const { inputs } = step("long-delete");
    const withLong = { ...inputs, environment: { ...(inputs.environment as Props), CONF } };
    const kept = await provider.create!(withLong);
    expect(((kept.outs as Props).environment as Record<string, string>).CONF).toBe(CONF);
  });

  it("diff by content: the same text is no change, another text is one", async () => {
    const inputs = configureStep("long-diff", CONF);
    const { id, outs } = await provider.create!(inputs);
    expect((await provider.diff!(id, outs as Props, inputs)).changes).toBe(false);
    const edited = configureStep("long-diff", `${CONF}  - edited=true\n`);
    expect((await provider.diff!(id, outs as Props, edited)).changes).toBe(true);
  });

  it("refresh as the host has them: a file as declared gives back the stored digest, an edited one shows", async () => {
    const inputs = configureStep("long-refresh", CONF);
    const { id, outs } = await provider.create!(inputs);
    const same = await provider.read!(id, outs as Props);
    expect(same.props).toEqual(outs);

    fs.writeFileSync(path.join(dir, "long-refresh.yaml"), `${CONF}edited: true\n`);
    const drifted = await provider.read!(id, outs as Props);
    expect(((drifted.props as Props).environment as Record<string, string>).CONF).toBe(
      `sha256:${sha(`${CONF}edited: true\n`)}`,
    );
    expect((await provider.diff!(id, drifted.props as Props, inputs)).changes).toBe(true);
    // The next up's update repairs the host, and a refresh then sees it as declared.
    const repaired = await provider.update!(id, drifted.props as Props, inputs);
    expect(fs.readFileSync(path.join(dir, "long-refresh.yaml"), "utf8")).toBe(CONF);
    expect((await provider.read!(id, repaired.outs as Props)).props).toEqual(repaired.outs);
  });
});

describe("steps stored by earlier releases (outputs a copy of the inputs)", () => {
  it("diff as before: unchanged is unchanged, a change is a change", async () => {
    const { inputs } = step("old-diff");
    const old: Props = { ...inputs, secretEnvironment: undefined, delete: undefined };
    expect((await provider.diff!("id", old, old)).changes).toBe(false);
    expect((await provider.diff!("id", old, { ...old, environment: { DIR: dir, NAME: "other" } })).changes).toBe(true);
    // A long value stored in full diffs equal to the same value declared again.
    const long = configureStep("old-long", CONF);
    expect((await provider.diff!("id", long, long)).changes).toBe(false);
    expect((await provider.diff!("id", long, configureStep("old-long", `${CONF}x: 1\n`))).changes).toBe(true);
  });

  it("delete without re-sending their uploads, so a machine without the artifacts can remove a host", async () => {
    const { inputs, local } = step("old-delete");
    await provider.create!(inputs);
    fs.rmSync(local);
    await provider.delete!("id", inputs);
    expect(fs.existsSync(path.join(dir, "old-delete.deleted"))).toBe(true);
  });
});
