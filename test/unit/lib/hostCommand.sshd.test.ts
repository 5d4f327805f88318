/**
 * HostCommand's provider against a real OpenSSH server (test/fixtures/sshd):
 * the guarantees issue 4 asks of the SSH layer (host-key pinning before
 * anything is sent, secrets never on a command line, checksummed uploads that
 * are not re-sent, no SSH session when nothing changed) checked end to end
 * through ssh and sshd, not on mocks. Fails, never skips, without sshd.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { SshConnectionInputs, UploadInputs } from "../../../lib/hostCommand";
import { dynamicProvider, stepOutputs, type HostCommandState } from "../../../lib/hostCommandRun";
import { sshdConnection, startSshd, Sshd } from "../../fixtures/sshd/sshd";

jest.setTimeout(60000);

let sshd: Sshd;
let work: string;
// What the engine's provider process gets from a step's __provider (lib/hostCommand.ts PROVIDER_MODULE).
const provider = dynamicProvider as unknown as pulumi.dynamic.ResourceProvider;

beforeAll(async () => {
  sshd = await startSshd();
  work = fs.mkdtempSync(path.join(sshd.dir, "work-"));
});

afterAll(async () => {
  if (sshd) await sshd.stop();
});

type Inputs = Record<string, unknown>;

const connection = (over: Partial<SshConnectionInputs> = {}) =>
  sshdConnection(sshd, { hostKeyConfigPath: "edgefleet:sites[0].hosts[0].hostKey", ...over });

async function create(inputs: Inputs): Promise<{ id: string; outs: Inputs }> {
  const r = await provider.create!(inputs);
  return { id: r.id, outs: (r.outs ?? {}) as Inputs };
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

function fresh(name: string): string {
  return path.join(work, `${name}-${crypto.randomBytes(4).toString("hex")}`);
}

function sha256(file: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

interface Proc {
  pid: string;
  argv: string[];
}

/** Every process on the machine with its argv (processes that exit meanwhile are skipped). */
function processes(): Proc[] {
  const out: Proc[] = [];
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const raw = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const argv = raw.split("\0");
      // argv ends with a NUL; a retitled process (setproctitle) pads with NULs.
      while (argv.length > 0 && argv[argv.length - 1] === "") argv.pop();
      out.push({ pid, argv });
    } catch {
      // gone
    }
  }
  return out;
}

/** ssh clients talking to the test server (the provider's, including a backgrounded control master). */
function sshClients(): Proc[] {
  return processes().filter((p) => {
    const line = p.argv.join(" ");
    if (p.argv.length > 0 && path.basename(p.argv[0]) === "ssh" && line.includes(`-p ${sshd.port} `)) return true;
    // A backgrounded control master renames itself "ssh: <ControlPath> [mux]".
    return /^ssh: .*edgefleet-ssh-.*\[mux\]$/.test(line);
  });
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("the test sshd", () => {
  it("runs and logs sessions", () => {
    expect(sshd.port).toBeGreaterThan(0);
    expect(sshd.hostKey).toMatch(/^ssh-ed25519 AAAA/);
    expect(sshd.log()).toContain(`Server listening on 127.0.0.1 port ${sshd.port}`);
  });

  it("fails loudly, with sshd's own message, when sshd cannot start", async () => {
    await expect(startSshd({ extraConfig: ["NoSuchOption yes"] })).rejects.toThrow(
      /cannot start the test sshd[\s\S]*NoSuchOption/,
    );
  });
});

describe("create", () => {
  it("runs the script with environment and secretEnvironment, captures stdout, stdin is /dev/null", async () => {
    const out = fresh("env");
    const weird = `it's "$HOME" \`id\` $(id) \\ ; &&\nsecond line`;
    const before = sshd.accepted();
    const { id, outs } = await create({
      connection: connection(),
      create: [
        `echo "hello $GREETING"`,
        `printf '%s' "$WEIRD" > ${out}.weird`,
        `printf '%s' "$TOKEN" > ${out}.token`,
        // A script's `cat` must see /dev/null, not the rest of the script.
        `in=$(cat)`,
        `echo "stdin=[$in]"`,
        `echo "epoch=$EDGEFLEET_CONTROLLER_EPOCH"`,
        `echo after-cat`,
      ].join("\n"),
      environment: { GREETING: "world", WEIRD: weird },
      secretEnvironment: { TOKEN: "tok-12345" },
      captureStdout: true,
    });
    expect(id).not.toBe("");
    const stdout = outs.stdout as string;
    expect(stdout).toMatch(/^hello world\nstdin=\[\]\nepoch=\d+\nafter-cat\n$/);
    const epoch = Number(/epoch=(\d+)/.exec(stdout)![1]);
    expect(Math.abs(epoch - Date.now() / 1000)).toBeLessThan(60);
    expect(fs.readFileSync(`${out}.weird`, "utf8")).toBe(weird);
    expect(fs.readFileSync(`${out}.token`, "utf8")).toBe("tok-12345");
    // One login for the whole step.
    expect(sshd.accepted() - before).toBe(1);
  });

  it("keeps no stdout unless captureStdout is set", async () => {
    const { outs } = await create({ connection: connection(), create: "echo not-kept" });
    expect(outs.stdout).toBeUndefined();
    // Nor the script a second time: the inputs hold it (lib/hostCommandRun.ts stepOutputs).
    expect(outs.create).toBeUndefined();
  });

  it("leaves no ssh process behind once a step returns", async () => {
    await create({ connection: connection(), create: "true" });
    // A control master left running (ControlPersist) would hold a login open
    // on the host after its socket dir is gone, for every HostCommand.
    await waitFor(() => sshClients().length === 0, 3000, "ssh clients to exit").catch(() => undefined);
    expect(sshClients().map((p) => p.argv.join(" "))).toEqual([]);
  });
});

describe("host key pinning and connection errors", () => {
  it("refuses a host whose key does not match the pin, before the script runs", async () => {
    const other = fresh("otherkey");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const wrongKey = fs.readFileSync(`${other}.pub`, "utf8").trim();
    const marker = fresh("pinned-marker");
    const before = sshd.accepted();
    const msg = await failure(
      create({
        connection: connection({ hostKey: wrongKey }),
        create: `touch ${marker}`,
        secretEnvironment: { TOKEN: "never-sent-1234" },
      }),
    );
    expect(msg).toContain("edge-test-01");
    expect(msg).toMatch(/does not match the key pinned/);
    expect(msg).toContain("edgefleet:sites[0].hosts[0].hostKey");
    expect(fs.existsSync(marker)).toBe(false);
    expect(sshd.accepted()).toBe(before);
  });

  it("names the host and the fix when the port is closed", async () => {
    const net = await import("net");
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as import("net").AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const msg = await failure(create({ connection: connection({ port: closed }), create: "true" }));
    expect(msg).toContain("edge-test-01");
    expect(msg).toContain(`127.0.0.1:${closed}`);
    expect(msg).toMatch(/unreachable over SSH/);
    expect(msg).toMatch(/Check its address and port in the stack config/);
  });

  it("names the site before the host when the connection says which site it serves", async () => {
    const msg = await failure(
      create({ connection: connection({ site: "hub-a", port: 1, connectTimeoutSeconds: 2 }), create: "true" }),
    );
    expect(msg).toMatch(/^site hub-a host edge-test-01 \([^)]*@127\.0\.0\.1:1\) is unreachable over SSH/);
  });

  it("says the key was refused when the client key is not authorized", async () => {
    const other = fresh("clientkey");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const msg = await failure(
      create({ connection: connection({ privateKey: fs.readFileSync(other, "utf8") }), create: "true" }),
    );
    expect(msg).toContain("edge-test-01");
    expect(msg).toMatch(/refused the SSH key/);
  });

  it("reaches the host through a bastion whose key is pinned too", async () => {
    const marker = fresh("bastion-marker");
    const before = sshd.accepted();
    await create({
      connection: connection({ bastion: { host: sshd.host, port: sshd.port, user: sshd.user, hostKey: sshd.hostKey } }),
      create: `touch ${marker}`,
    });
    expect(fs.existsSync(marker)).toBe(true);
    // One login on the bastion, one on the host.
    expect(sshd.accepted() - before).toBe(2);
  });

  it("refuses a bastion whose key does not match its pin", async () => {
    const other = fresh("bastionkey");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const marker = fresh("bastion-wrong");
    const before = sshd.accepted();
    const msg = await failure(
      create({
        connection: connection({
          bastion: {
            host: sshd.host,
            port: sshd.port,
            user: sshd.user,
            hostKey: fs.readFileSync(`${other}.pub`, "utf8"),
          },
        }),
        create: `touch ${marker}`,
      }),
    );
    expect(msg).toContain("edge-test-01");
    expect(msg).toContain(`SSH host key of its bastion 127.0.0.1:${sshd.port} does not match the key pinned`);
    expect(fs.existsSync(marker)).toBe(false);
    expect(sshd.accepted()).toBe(before);
  });

  it("refuses a host behind a good bastion whose own key does not match its pin", async () => {
    const other = fresh("hostkey-behind");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const marker = fresh("behind-wrong");
    const before = sshd.accepted();
    const msg = await failure(
      create({
        connection: connection({
          hostKey: fs.readFileSync(`${other}.pub`, "utf8"),
          bastion: { host: sshd.host, port: sshd.port, user: sshd.user, hostKey: sshd.hostKey },
        }),
        create: `touch ${marker}`,
      }),
    );
    expect(msg).toMatch(/edge-test-01 .*: its SSH host key does not match the key pinned/);
    expect(msg).toContain("edgefleet:sites[0].hosts[0].hostKey");
    expect(fs.existsSync(marker)).toBe(false);
    // The bastion let us through; the host itself was never logged into.
    expect(sshd.accepted() - before).toBe(1);
  });
});

describe("hostile connection values (issue 14: no shell interprets a config value)", () => {
  // Each would run `touch <marker>` on this machine if a shell saw it, or make
  // ssh read an option; every one must be refused before any process starts.
  const marker = path.join(os.tmpdir(), `edgefleet-hostile-${process.pid}`);
  const payloads = [
    `x; touch ${marker}`,
    `$(touch ${marker})`,
    `a\ntouch ${marker}`,
    "-oProxyCommand=touch " + marker,
    "a b",
    "`id`",
  ];
  const fields: Array<[string, (v: string) => Partial<SshConnectionInputs>]> = [
    ["host", (v) => ({ host: v })],
    ["user", (v) => ({ user: v })],
    ["port", (v) => ({ port: v as unknown as number })],
    ["bastion host", (v) => ({ bastion: { host: v, port: sshd.port, user: sshd.user, hostKey: sshd.hostKey } })],
    ["bastion user", (v) => ({ bastion: { host: sshd.host, port: sshd.port, user: v, hostKey: sshd.hostKey } })],
    [
      "bastion port",
      (v) => ({ bastion: { host: sshd.host, port: v as unknown as number, user: sshd.user, hostKey: sshd.hostKey } }),
    ],
  ];
  const cases = fields.flatMap(([field, make]) => payloads.map((v) => [field, v, make] as const));

  it.each(cases)("refuses %s %j before ssh starts", async (field, value, make) => {
    const before = sshd.accepted();
    const msg = await failure(create({ connection: connection(make(value)), create: "true" }));
    expect(msg).toContain(`SSH ${field} ${JSON.stringify(value)} is not plain; nothing was run`);
    expect(fs.existsSync(marker)).toBe(false);
    expect(sshd.accepted()).toBe(before);
  });

  it("still reaches a host through a bastion whose parts are plain (the ProxyCommand is quoted)", async () => {
    const done = fresh("quoted-proxy");
    await create({
      connection: connection({ bastion: { host: sshd.host, port: sshd.port, user: sshd.user, hostKey: sshd.hostKey } }),
      create: `touch ${done}`,
    });
    expect(fs.existsSync(done)).toBe(true);
  });
});

describe("secrets", () => {
  it("never appear on any command line on the machine while the step runs", async () => {
    const secret = `s3cr3t-${crypto.randomBytes(12).toString("hex")}`;
    const started = fresh("started");
    const release = fresh("release");
    const running = create({
      connection: connection(),
      create: [
        `touch ${started}`,
        `for _ in $(seq 300); do [ -e ${release} ] && break; sleep 0.1; done`,
        `[ "$TOKEN" = "${secret.slice(0, 7)}$TOKEN_TAIL" ]`,
      ].join("\n"),
      environment: { TOKEN_TAIL: secret.slice(7) },
      secretEnvironment: { TOKEN: secret },
    });
    // The tail is a plain input so the assertion above can compare without
    // repeating the secret in the script; it must not leak the whole value.
    try {
      await waitFor(() => fs.existsSync(started), 20000, "the step to start");
      const procs = processes();
      // The scan sees the processes that carry the step: the local ssh client
      // and the remote `bash -s`.
      expect(procs.some((p) => path.basename(p.argv[0] ?? "") === "ssh" && p.argv.includes(String(sshd.port)))).toBe(
        true,
      );
      expect(procs.some((p) => p.argv.join(" ").includes("bash -s"))).toBe(true);
      const leaks = procs.filter((p) => p.argv.join("\0").includes(secret));
      expect(leaks.map((p) => `${p.pid}: ${p.argv.join(" ")}`)).toEqual([]);
    } finally {
      fs.writeFileSync(release, "");
      await running.catch(() => undefined);
    }
    await expect(running).resolves.toBeDefined();
    expect(sshd.log()).not.toContain(secret);
  });

  it("are redacted from a failing step's error", async () => {
    const secret = `pw-${crypto.randomBytes(8).toString("hex")}`;
    const msg = await failure(
      create({
        connection: connection(),
        create: `echo "connecting with password $DB_PASSWORD" >&2\nexit 4`,
        secretEnvironment: { DB_PASSWORD: secret },
      }),
    );
    expect(msg).toContain("connecting with password [secret]");
    expect(msg).not.toContain(secret);
    expect(msg).toMatch(/exit code 4/);
  });

  it("redact the SSH key, whole or a line of it, and each line of a multi-line secret", async () => {
    const key = connection().privateKey!;
    const keyLine = key.split("\n")[1];
    const kubeconfig = `apiVersion: v1\nclient-key-data: ${crypto.randomBytes(24).toString("base64")}\n`;
    const keyLineOfConfig = kubeconfig.split("\n")[1];
    const msg = await failure(
      create({
        connection: connection(),
        create: `echo ${JSON.stringify(keyLine)} >&2\necho ${JSON.stringify(keyLineOfConfig)} >&2\nexit 3`,
        secretEnvironment: { KUBECONFIG_TEXT: kubeconfig },
      }),
    );
    expect(keyLine.length).toBeGreaterThan(20);
    expect(msg).not.toContain(keyLine);
    expect(msg).not.toContain(keyLineOfConfig);
    expect(msg.match(/\[secret\]/g)).toHaveLength(2);
    expect(msg).toMatch(/exit code 3/);
  });
});

describe("uploads", () => {
  function artifact(size: number): { localPath: string; sha256: string } {
    const localPath = fresh("artifact");
    fs.writeFileSync(localPath, crypto.randomBytes(size));
    return { localPath, sha256: sha256(localPath) };
  }

  it("arrive with their content and mode, and are not re-sent when the host has them", async () => {
    const a = artifact(300 * 1024);
    const remotePath = path.join(fresh("remote"), "sub", "k3s");
    const upload: UploadInputs = { ...a, remotePath, mode: "0750" };
    await create({ connection: connection(), create: `test -x ${remotePath}`, uploads: [upload] });
    expect(sha256(remotePath)).toBe(a.sha256);
    expect(fs.statSync(remotePath).mode & 0o7777).toBe(0o750);

    // Mark the uploaded file: a re-upload would replace the inode (temp file
    // then mv) and reset the mtime.
    const old = new Date("2001-02-03T04:05:06Z");
    fs.utimesSync(remotePath, old, old);
    const ino = fs.statSync(remotePath).ino;

    const before = sshd.accepted();
    await create({ connection: connection(), create: "true", uploads: [upload] });
    const inputs = { connection: connection(), create: "true", update: "true", uploads: [upload] };
    await provider.update!("id", inputs, inputs);
    const st = fs.statSync(remotePath);
    expect(st.ino).toBe(ino);
    expect(st.mtime.getTime()).toBe(old.getTime());
    // The checksum probe and the script share one login per step.
    expect(sshd.accepted() - before).toBe(2);
  });

  it("re-sends a file whose content on the host differs", async () => {
    const a = artifact(4096);
    const remotePath = fresh("remote-changed");
    const upload: UploadInputs = { ...a, remotePath };
    await create({ connection: connection(), create: "true", uploads: [upload] });
    fs.writeFileSync(remotePath, "tampered");
    await create({ connection: connection(), create: "true", uploads: [upload] });
    expect(sha256(remotePath)).toBe(a.sha256);
    expect(fs.statSync(remotePath).mode & 0o777).toBe(0o644);
  });

  it("applies a changed mode even when the content is already there", async () => {
    const a = artifact(1024);
    const remotePath = fresh("remote-mode");
    await create({ connection: connection(), create: "true", uploads: [{ ...a, remotePath, mode: "0755" }] });
    expect(fs.statSync(remotePath).mode & 0o777).toBe(0o755);
    const inputs = { connection: connection(), create: "true", uploads: [{ ...a, remotePath, mode: "0700" }] };
    await provider.update!("id", inputs, inputs);
    expect(fs.statSync(remotePath).mode & 0o777).toBe(0o700);
  });

  it("fail before anything is sent when a local file does not match its pinned sha256", async () => {
    const good = artifact(1024);
    const bad = artifact(1024);
    const wrong = crypto.createHash("sha256").update("something else").digest("hex");
    const goodRemote = fresh("remote-good");
    const badRemote = fresh("remote-bad");
    const marker = fresh("badsum-marker");
    const before = sshd.accepted();
    const msg = await failure(
      create({
        connection: connection(),
        create: `touch ${marker}`,
        uploads: [
          { ...good, remotePath: goodRemote },
          { localPath: bad.localPath, sha256: wrong, remotePath: badRemote },
        ],
      }),
    );
    expect(msg).toContain("edge-test-01");
    expect(msg).toContain(bad.localPath);
    expect(msg).toContain(bad.sha256);
    expect(msg).toContain(wrong);
    expect(msg).toMatch(/Nothing was uploaded/);
    // "Nothing was uploaded" must be true: not even the good file before it.
    expect(fs.existsSync(goodRemote)).toBe(false);
    expect(fs.existsSync(badRemote)).toBe(false);
    expect(fs.existsSync(marker)).toBe(false);
    expect(sshd.accepted()).toBe(before);
  });

  it("refuse a mode that is not octal digits (it is spliced into a remote chmod)", async () => {
    const a = artifact(64);
    const remotePath = fresh("remote-badmode");
    const before = sshd.accepted();
    const msg = await failure(
      create({ connection: connection(), create: "true", uploads: [{ ...a, remotePath, mode: "0644; touch /tmp/x" }] }),
    );
    expect(msg).toContain(`upload ${remotePath} has mode 0644; touch /tmp/x`);
    expect(fs.existsSync(remotePath)).toBe(false);
    expect(sshd.accepted()).toBe(before);
  });

  it("fail with the file's name when a local file is missing", async () => {
    const missing = fresh("missing-artifact");
    const msg = await failure(
      create({
        connection: connection(),
        create: "true",
        uploads: [{ localPath: missing, sha256: "0".repeat(64), remotePath: fresh("remote-missing") }],
      }),
    );
    expect(msg).toContain("edge-test-01");
    expect(msg).toContain(`cannot read artifact ${missing}`);
  });
});

describe("diff", () => {
  let outs: Inputs;
  let inputs: Inputs;

  beforeAll(async () => {
    inputs = {
      connection: connection(),
      create: "echo created",
      environment: { A: "1" },
      secretEnvironment: { S: "secret-value" },
      triggers: ["v1.33.1+k3s1"],
      captureStdout: true,
    };
    outs = (await create(inputs)).outs;
    expect(outs.stdout).toBe("created\n");
  });

  it("reports no change for identical inputs, without any SSH session", async () => {
    const before = sshd.accepted();
    const d = await provider.diff!("id", outs, { ...inputs });
    expect(d.changes).toBe(false);
    expect(d.replaces ?? []).toEqual([]);
    expect(sshd.accepted()).toBe(before);
    expect(sshClients()).toEqual([]);
  });

  it("reports an update for a changed script or environment", async () => {
    const d1 = await provider.diff!("id", outs, { ...inputs, create: "echo created again" });
    expect(d1.changes).toBe(true);
    expect(d1.replaces ?? []).toEqual([]);
    const d2 = await provider.diff!("id", outs, { ...inputs, secretEnvironment: { S: "rotated" } });
    expect(d2.changes).toBe(true);
    expect(d2.replaces ?? []).toEqual([]);
  });

  it("ignores a change of the provider's own code (a new Edgefleet release)", async () => {
    const d = await provider.diff!(
      "id",
      { ...outs, __provider: "exports.handler = old" } as Inputs,
      { ...inputs, __provider: "exports.handler = new" } as Inputs,
    );
    expect(d.changes).toBe(false);
  });

  it("sees no change from another checkout, another deploy key or another timeout", async () => {
    const up = { remotePath: "/opt/edgefleet/k3s", sha256: "a".repeat(64), mode: "0755" };
    const old = stepOutputs(
      {
        ...inputs,
        uploads: [{ ...up, localPath: "/home/alice/edgefleet/artifacts/k3s" }],
      } as unknown as HostCommandState,
      "",
    ) as unknown as Inputs;
    const d = await provider.diff!("id", old, {
      ...inputs,
      connection: connection({
        privateKey: "another deploy key (its content does not matter to the diff)",
        hostKeyConfigPath: "elsewhere",
        // A stack whose steps were stored before errors named the site.
        site: "hub-a",
        connectTimeoutSeconds: 99,
      }),
      uploads: [{ ...up, localPath: "/runner/_work/edgefleet/artifacts/k3s" }],
      timeoutSeconds: 5,
    });
    expect(d.changes).toBe(false);
  });

  it("sees a change in what reaches the host: an upload's digest, remote path or mode, the host key", async () => {
    const up = { localPath: "/x/k3s", remotePath: "/opt/edgefleet/k3s", sha256: "a".repeat(64), mode: "0755" };
    const old = { ...outs, uploads: [up] };
    for (const u of [{ sha256: "b".repeat(64) }, { remotePath: "/opt/edgefleet/k3s2" }, { mode: "0700" }]) {
      const d = await provider.diff!("id", old, { ...inputs, uploads: [{ ...up, ...u }] });
      expect(d.changes).toBe(true);
    }
    const rekeyed = { ...inputs, uploads: [up], connection: connection({ hostKey: "ssh-ed25519 AAAAother" }) };
    expect((await provider.diff!("id", old, rekeyed)).changes).toBe(true);
  });

  it("replaces (delete first) when triggers change", async () => {
    const d = await provider.diff!("id", outs, { ...inputs, triggers: ["v1.34.0+k3s1"] });
    expect(d.changes).toBe(true);
    expect(d.replaces).toEqual(["triggers"]);
    expect(d.deleteBeforeReplace).toBe(true);
  });
});

describe("update and delete", () => {
  it("update runs the update script, or create when there is none", async () => {
    const u = fresh("update-marker");
    const c = fresh("create-marker");
    const withUpdate = { connection: connection(), create: `touch ${c}`, update: `touch ${u}`, captureStdout: true };
    const r = await provider.update!("id", withUpdate, withUpdate);
    expect(fs.existsSync(u)).toBe(true);
    expect(fs.existsSync(c)).toBe(false);
    expect(r.outs).toMatchObject({ stdout: "" });
    const withoutUpdate = { connection: connection(), create: `touch ${c}` };
    await provider.update!("id", withoutUpdate, withoutUpdate);
    expect(fs.existsSync(c)).toBe(true);
  });

  it("delete runs the delete script with the stored environment", async () => {
    const marker = fresh("delete-marker");
    const { id, outs } = await create({
      connection: connection(),
      create: "true",
      delete: `printf '%s' "$NODE_NAME" > ${marker}`,
      environment: { NODE_NAME: "edge-test-01" },
    });
    await provider.delete!(id, outs);
    expect(fs.readFileSync(marker, "utf8")).toBe("edge-test-01");
  });

  it("delete without a delete script opens no SSH session", async () => {
    const { id, outs } = await create({ connection: connection(), create: "true" });
    const before = sshd.accepted();
    await provider.delete!(id, outs);
    expect(sshd.accepted()).toBe(before);
  });
});

describe("the script wrapper", () => {
  it("runs heredocs and functions, and reports exit 3 with the last stderr lines", async () => {
    const out = fresh("heredoc");
    const script = [
      "set -euo pipefail",
      "greet() {",
      "  local who=$1",
      '  echo "hi $who"',
      "}",
      "greet there",
      `cat <<'EOF' > ${out}`,
      "literal $NOT_EXPANDED and 'quotes' and }",
      "EOF",
      "cat <<EOF",
      "expanded $GREETING",
      "EOF",
      ...Array.from({ length: 40 }, (_, i) => `echo "err line ${i + 1}" >&2`),
      "exit 3",
    ].join("\n");
    const msg = await failure(create({ connection: connection(), create: script, environment: { GREETING: "yes" } }));
    expect(fs.readFileSync(out, "utf8")).toBe("literal $NOT_EXPANDED and 'quotes' and }\n");
    expect(msg).toContain("edge-test-01");
    expect(msg).toMatch(/exit code 3\b/);
    expect(msg).toContain("err line 39\nerr line 40");
    expect(msg).not.toContain("err line 1\n");
    expect(msg).not.toContain("hi there");
  });

  it("runs a heredoc as the last thing in a script (no trailing newline)", async () => {
    const { outs } = await create({
      connection: connection(),
      create: "cat <<EOF\nlast $GREETING\nEOF",
      environment: { GREETING: "one" },
      captureStdout: true,
    });
    expect(outs.stdout).toBe("last one\n");
  });

  it("stops at the first failing command under set -e", async () => {
    const marker = fresh("after-false");
    const msg = await failure(
      create({ connection: connection(), create: `set -euo pipefail\nfalse\ntouch ${marker}` }),
    );
    expect(msg).toMatch(/exit code 1\b/);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it("reports a script's own 'Connection refused' or 'Permission denied' as a failed step, not an SSH problem", async () => {
    const msg = await failure(
      create({
        connection: connection(),
        create: [
          `echo "curl: (7) Failed to connect to 127.0.0.1 port 6443: Connection refused" >&2`,
          `echo "mkdir: cannot create directory '/x': Permission denied" >&2`,
          `echo "Host key verification failed." >&2`,
          "exit 7",
        ].join("\n"),
      }),
    );
    expect(msg).toMatch(/step failed with exit code 7/);
    expect(msg).toContain("Connection refused");
    expect(msg).not.toMatch(/unreachable over SSH|refused the SSH key|does not match the key pinned/);
  });

  it("kills a step that exceeds its timeout", async () => {
    const t0 = Date.now();
    const msg = await failure(create({ connection: connection(), create: "sleep 20", timeoutSeconds: 1 }));
    expect(msg).toContain("edge-test-01");
    expect(msg).toMatch(/timed out after 1s/);
    // The step returns at its timeout, not when the remote script ends.
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(sshClients()).toEqual([]);
  });
});

/** The session id of a process (field 6 of /proc/<pid>/stat), or undefined once it is gone. */
function sessionOf(pid: number | string): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
  } catch {
    return undefined;
  }
}

/** Every live process of session `sid`, with its process group: [pid, pgid, argv]. */
function sessionMembers(sid: number): Array<[number, number, string]> {
  const out: Array<[number, number, string]> = [];
  for (const p of processes()) {
    try {
      const stat = fs.readFileSync(`/proc/${p.pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[3]) === sid && f[0] !== "Z") out.push([Number(p.pid), Number(f[2]), p.argv.join(" ")]);
    } catch {
      // gone
    }
  }
  return out;
}

const readSid = (file: string) => Number(fs.readFileSync(file, "utf8").trim());
// The step's own shell writes its session id: the session lib/hostStep.sh made for it.
const writeSid = (file: string) => `cut -d' ' -f6 /proc/$$/stat > ${file}`;

describe("the host side of a step (lib/hostStep.sh): deadline, lost connection, host lock", () => {
  it("a step that times out leaves no process of it on the host, not even one that ignores TERM or left its process group", async () => {
    const sidFile = fresh("sid");
    const t0 = Date.now();
    const running = create({
      connection: connection(),
      timeoutSeconds: 2,
      create: [
        writeSid(sidFile),
        // Ignores TERM: only the KILL after the grace period ends it.
        `(trap '' TERM; exec sleep 3601) &`,
        // timeout(1) puts its command in a process group of its own.
        `timeout 300 sleep 3602 &`,
        `sleep 3603`,
      ].join("\n"),
    });
    await waitFor(() => fs.existsSync(sidFile) && fs.readFileSync(sidFile, "utf8").includes("\n"), 20000, "the step");
    const sid = readSid(sidFile);
    await waitFor(() => sessionMembers(sid).some(([, , a]) => a === "sleep 3602"), 10000, "the step's processes");
    const members = sessionMembers(sid);
    // The test means something only if the step's session spans several process groups.
    expect(new Set(members.map(([, g]) => g)).size).toBeGreaterThan(1);
    expect(members.map(([, , a]) => a)).toEqual(expect.arrayContaining(["sleep 3601", "sleep 3602", "sleep 3603"]));

    const msg = await failure(running);
    expect(msg).toContain("edge-test-01");
    expect(msg).toMatch(/timed out after 2s on .*every process of it was stopped \(TERM, then KILL after 1s\)/);
    // When the failure is reported, nothing of the step runs on the host any more.
    expect(sessionMembers(sid)).toEqual([]);
    expect(processes().filter((p) => /^sleep 36\d\d$/.test(p.argv.join(" ")))).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(15000);
  });

  it("when the controller's connection closes mid-step, the host stops the step and frees the lock", async () => {
    const sidFile = fresh("sid-drop");
    const running = create({
      connection: connection(),
      timeoutSeconds: 120,
      create: `${writeSid(sidFile)}\nsleep 3604`,
    });
    await waitFor(() => fs.existsSync(sidFile) && fs.readFileSync(sidFile, "utf8").includes("\n"), 20000, "the step");
    const sid = readSid(sidFile);
    expect(sessionMembers(sid).map(([, , a]) => a)).toContain("sleep 3604");
    // The controller dies: its ssh client and control master are gone, the
    // TCP connection closes. No hangup reaches a session without a PTY.
    for (const p of sshClients()) process.kill(Number(p.pid), "SIGKILL");
    await failure(running);
    await waitFor(() => sessionMembers(sid).length === 0, 10000, "the host to stop the step").catch(() => undefined);
    expect(sessionMembers(sid)).toEqual([]);
    // And the lock is free: the next step runs at once.
    const t0 = Date.now();
    const { outs } = await create({
      connection: connection(),
      create: "echo next",
      timeoutSeconds: 30,
      captureStdout: true,
    });
    expect(outs.stdout).toBe("next\n");
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it("two steps against the same host run one after the other", async () => {
    const log = fresh("serial");
    const a = create({
      connection: connection(),
      timeoutSeconds: 60,
      create: `echo a-start >> ${log}\nsleep 2\necho a-end >> ${log}`,
    });
    await waitFor(() => fs.existsSync(log), 20000, "the first step");
    const b = create({
      connection: connection(),
      timeoutSeconds: 60,
      create: `echo b-start >> ${log}\necho b-end >> ${log}`,
    });
    await Promise.all([a, b]);
    expect(fs.readFileSync(log, "utf8")).toBe("a-start\na-end\nb-start\nb-end\n");
  });

  it("a step that cannot get the lock in time fails naming the holder and the fix, without running", async () => {
    const sidFile = fresh("sid-holder");
    const release = fresh("release-holder");
    const marker = fresh("never-ran");
    const holder = create({
      connection: connection(),
      timeoutSeconds: 60,
      step: "prod/edge-a1-install",
      create: `${writeSid(sidFile)}\nfor _ in $(seq 600); do [ -e ${release} ] && break; sleep 0.1; done`,
    });
    try {
      await waitFor(() => fs.existsSync(sidFile) && fs.readFileSync(sidFile, "utf8").includes("\n"), 20000, "holder");
      const sid = readSid(sidFile);
      const t0 = Date.now();
      const msg = await failure(
        create({
          connection: connection(),
          timeoutSeconds: 3,
          step: "prod/edge-a1-configure",
          create: `touch ${marker}`,
        }),
      );
      const waited = Date.now() - t0;
      expect(msg).toContain("edge-test-01");
      expect(msg).toMatch(/is being changed by another run: the host lock \S+host\.lock was not free after [34]s/);
      expect(msg).toContain("wanted exclusive for step prod/edge-a1-configure");
      expect(msg).toContain("held (exclusive) by step prod/edge-a1-install");
      expect(msg).toContain(`controller ${os.hostname()} (user ${os.userInfo().username}, pid ${process.pid})`);
      expect(msg).toContain(`connected from 127.0.0.1`);
      expect(msg).toContain(`step session ${sid} (to end it now: pkill -s ${sid})`);
      expect(msg).toMatch(/Do not delete \S+host\.lock/);
      expect(fs.existsSync(marker)).toBe(false);
      expect(waited).toBeGreaterThanOrEqual(2500);
      expect(waited).toBeLessThan(15000);
    } finally {
      fs.writeFileSync(release, "");
    }
    await expect(holder).resolves.toBeDefined();
  });

  it("readers share the lock, and a step without a lock does not wait for a holder", async () => {
    const aStarted = fresh("reader-a");
    const bStarted = fresh("reader-b");
    // Each reader waits for the other to be running: they finish only if they overlap.
    const a = create({
      connection: connection(),
      timeoutSeconds: 30,
      lock: "shared",
      create: `touch ${aStarted}\nfor _ in $(seq 200); do [ -e ${bStarted} ] && exit 0; sleep 0.1; done\nexit 9`,
    });
    await waitFor(() => fs.existsSync(aStarted), 20000, "the first reader");
    const b = create({
      connection: connection(),
      timeoutSeconds: 30,
      lock: "shared",
      create: `touch ${bStarted}\n[ -e ${aStarted} ]`,
    });
    await Promise.all([a, b]);

    const started = fresh("excl-started");
    const release = fresh("excl-release");
    const holder = create({
      connection: connection(),
      timeoutSeconds: 60,
      create: `touch ${started}\nfor _ in $(seq 600); do [ -e ${release} ] && break; sleep 0.1; done`,
    });
    try {
      await waitFor(() => fs.existsSync(started), 20000, "the holder");
      const { outs } = await create({
        connection: connection(),
        timeoutSeconds: 5,
        lock: "none",
        create: "echo unlocked",
        captureStdout: true,
      });
      expect(outs.stdout).toBe("unlocked\n");
      // A reader does wait for the change under way, and is refused.
      const msg = await failure(
        create({ connection: connection(), timeoutSeconds: 2, lock: "shared", create: "true" }),
      );
      expect(msg).toMatch(/wanted shared for step/);
    } finally {
      fs.writeFileSync(release, "");
    }
    await holder;
  });

  it("a lock whose holder was killed does not block the next run, and its stale record goes", async () => {
    const sidFile = fresh("sid-killed");
    const running = create({
      connection: connection(),
      timeoutSeconds: 120,
      step: "prod/killed",
      create: `${writeSid(sidFile)}\nsleep 3605`,
    });
    await waitFor(() => fs.existsSync(sidFile) && fs.readFileSync(sidFile, "utf8").includes("\n"), 20000, "the step");
    const records = fs.readdirSync(sshd.lockDir).filter((f) => f.startsWith("holder."));
    expect(records).toHaveLength(1);
    const outer = Number(/^pid=(\d+)$/m.exec(fs.readFileSync(path.join(sshd.lockDir, records[0]), "utf8"))![1]);
    // kill -9 of everything the holder has on the host (an OOM kill, an
    // operator's kill -9): the wrapper, its watcher, the step. None cleans up.
    const victims = [...sessionMembers(sessionOf(outer)!), ...sessionMembers(readSid(sidFile))].map(([p]) => p);
    expect(victims).toContain(outer);
    for (const p of victims) process.kill(p, "SIGKILL");
    await failure(running);
    expect(fs.existsSync(path.join(sshd.lockDir, records[0]))).toBe(true);

    const t0 = Date.now();
    const { outs } = await create({
      connection: connection(),
      create: "echo after",
      timeoutSeconds: 20,
      captureStdout: true,
    });
    expect(outs.stdout).toBe("after\n");
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(fs.readdirSync(sshd.lockDir).filter((f) => f.startsWith("holder."))).toEqual([]);
  });

  it("a daemon the step starts (setsid) outlives the step, without holding the host lock", async () => {
    const { outs } = await create({
      connection: connection(),
      timeoutSeconds: 10,
      create: "setsid sleep 3606 </dev/null >/dev/null 2>&1 &\necho started",
      captureStdout: true,
    });
    expect(outs.stdout).toBe("started\n");
    const daemon = processes().find((p) => p.argv.join(" ") === "sleep 3606");
    try {
      expect(daemon).toBeDefined();
      const lockFile = path.join(sshd.lockDir, "host.lock");
      const fds = fs.readdirSync(`/proc/${daemon!.pid}/fd`).map((fd) => {
        try {
          return fs.readlinkSync(`/proc/${daemon!.pid}/fd/${fd}`);
        } catch {
          return "";
        }
      });
      expect(fds).not.toContain(lockFile);
      const t0 = Date.now();
      await create({ connection: connection(), create: "true", timeoutSeconds: 20 });
      expect(Date.now() - t0).toBeLessThan(8000);
    } finally {
      if (daemon) process.kill(Number(daemon.pid), "SIGKILL");
    }
  });
});
