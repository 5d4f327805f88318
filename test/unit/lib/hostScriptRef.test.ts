/**
 * Scripts by reference and the key from the stack (issue 15 item 2): what the
 * built-in transport keeps in state for a step's scripts and connection, and
 * how its provider gets the texts and the key back when a step runs.
 */
import * as crypto from "crypto";
import { hostScript, scriptInput } from "../../../infra/scripts";
import { provider, scriptDigest, scriptText, withPrivateKey, type HostCommandState } from "../../../lib/hostCommandRun";

const sha = (s: string) => crypto.createHash("sha256").update(s, "utf8").digest("hex");
const connection = { hostName: "edge-1", host: "192.0.2.10", hostKey: "ssh-ed25519 AAAAC3Nza", port: 22, user: "root" };

describe("scriptInput", () => {
  it("keeps a host script as its file and digest, with the lines put before it", () => {
    const body = hostScript("preflight");
    expect(scriptInput(body)).toEqual({ file: "infra/scripts/preflight.sh", sha256: sha(body) });
    const text = `export A=1\nexport B=2\n${body}`;
    expect(scriptInput(text)).toEqual({
      file: "infra/scripts/preflight.sh",
      prelude: "export A=1\nexport B=2",
      sha256: sha(text),
    });
  });

  it("keeps any other text as it is", () => {
    expect(scriptInput("cat /etc/rancher/k3s/k3s.yaml")).toBe("cat /etc/rancher/k3s/k3s.yaml");
    // A script with something after it is not the file.
    const body = hostScript("service");
    expect(scriptInput(`${body}\necho extra`)).toBe(`${body}\necho extra`);
  });
});

describe("scriptText", () => {
  it("gives back exactly the text that was declared", () => {
    const text = `export OBSERVE_STEP=install\n${hostScript("observe")}`;
    expect(scriptText(scriptInput(text), "run", "s")).toBe(text);
  });

  it("refuses to run a file whose digest is not the declared one, and names the step", () => {
    const ref = { file: "infra/scripts/install.sh", sha256: "0".repeat(64) };
    expect(() => scriptText(ref, "run", "lab/h1-install")).toThrow(
      /lab\/h1-install: infra\/scripts\/install.sh changed/,
    );
    // A delete of a step another release declared runs this checkout's script.
    expect(scriptText(ref, "delete", "lab/h1-install")).toBe(hostScript("install"));
  });

  it("reads only files of the project", () => {
    for (const file of ["/etc/passwd", "../outside.sh", "infra/../../x.sh"]) {
      expect(() => scriptText({ file, sha256: "0".repeat(64) }, "delete", "s")).toThrow(/not a file of the project/);
    }
  });
});

describe("diff across releases", () => {
  const base = (create: HostCommandState["create"]): HostCommandState => ({
    connection,
    create,
    environment: { A: "1" },
  });
  it("sees no change between a script kept inline (earlier releases) and the same text by reference", async () => {
    const text = hostScript("configure");
    expect(scriptDigest(text)).toBe(scriptDigest(scriptInput(text)));
    expect((await provider.diff(base(text), base(scriptInput(text)))).changes).toBe(false);
  });

  it("sees a changed script, and no change from the key or its setting", async () => {
    const text = hostScript("configure");
    expect((await provider.diff(base(text), base(scriptInput(`${text}\n# changed`)))).changes).toBe(true);
    const withKey = { ...base(text), connection: { ...connection, privateKey: "-----BEGIN KEY-----" } };
    expect((await provider.diff(withKey, base(scriptInput(text)))).changes).toBe(false);
  });
});

describe("withPrivateKey", () => {
  afterEach(() => provider.configure({ get: () => undefined }));

  it("reads the key from the stack setting when the connection carries none", async () => {
    await provider.configure({
      get: (k) => (k === "edgefleet:ssh" ? JSON.stringify({ user: "root", privateKey: "KEY-FROM-STACK" }) : undefined),
    });
    expect(withPrivateKey(connection).privateKey).toBe("KEY-FROM-STACK");
    expect(withPrivateKey({ ...connection, privateKey: "INLINE" }).privateKey).toBe("INLINE");
  });

  it("without one, fails naming the host and the setting, before anything runs", async () => {
    await provider.configure({ get: () => JSON.stringify({ user: "root" }) });
    expect(() => withPrivateKey(connection)).toThrow(
      /host edge-1: no SSH private key: the stack has no edgefleet:ssh.privateKey\. Set it with `pulumi config set --secret --path edgefleet:ssh.privateKey/,
    );
  });
});
