import * as pulumi from "@pulumi/pulumi";

/**
 * HostCommand runs a bash script on a host over OpenSSH, as a Pulumi resource.
 *
 * Why not `@pulumi/command`'s `remote.Command`: its provider
 * (pulumi-resource-command) cannot be built on this project's machines (the
 * Go module mirror holds no release of github.com/pulumi/pulumi-command/provider;
 * see tools/README.md). This resource keeps the parts of that contract that
 * Edgefleet relies on, and adds what the host layer needs:
 *
 * - the host key is pinned: OpenSSH runs with StrictHostKeyChecking=yes
 *   against a known_hosts file holding only the key from the stack config, so a
 *   wrong key fails in the handshake, before any script or secret is sent;
 * - secrets never touch a command line: the script, its environment and its
 *   secret environment travel on ssh's stdin, wrapped in a function whose own
 *   stdin is /dev/null; the remote command line is only `bash -s`;
 * - files are uploaded only when the host's sha256 differs from the local one;
 * - diffs are computed locally, so `pulumi up` with no changes opens no SSH
 *   session at all.
 */

export interface BastionInputs {
  host: string;
  port?: number;
  user?: string;
  /** Pinned host public key of the bastion, "ssh-ed25519 AAAA...". */
  hostKey: string;
}

export interface SshConnectionInputs {
  /** Inventory name, used in every error message. */
  hostName: string;
  host: string;
  port?: number;
  user?: string;
  /** OpenSSH private key (PEM/OpenSSH format). Pass a secret. */
  privateKey: string;
  /** Pinned host public key, "ssh-ed25519 AAAA..." (as in the stack config). */
  hostKey: string;
  /** Where the pin is set, for error messages (e.g. `edgefleet:sites[0].hosts[2].hostKey`). */
  hostKeyConfigPath?: string;
  bastion?: BastionInputs;
  connectTimeoutSeconds?: number;
}

export interface UploadInputs {
  /** Path on the machine running Pulumi. */
  localPath: string;
  remotePath: string;
  /** Expected sha256 (hex) of the local file; checked locally before sending. */
  sha256: string;
  mode?: string;
}

export interface HostCommandArgs {
  connection: pulumi.Input<{ [K in keyof SshConnectionInputs]: pulumi.Input<SshConnectionInputs[K]> }>;
  /** Script run on create. */
  create: pulumi.Input<string>;
  /** Script run when inputs change without replacement; defaults to `create`. */
  update?: pulumi.Input<string>;
  /** Script run on delete. */
  delete?: pulumi.Input<string>;
  environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Environment whose values are secrets: sent on stdin, redacted from errors. */
  secretEnvironment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  uploads?: pulumi.Input<pulumi.Input<UploadInputs>[]>;
  /** Any change replaces the resource (delete, then create). */
  triggers?: pulumi.Input<unknown[]>;
  /** Keep stdout as an output. Off for steps whose output is not needed. */
  captureStdout?: boolean;
  /** Mark stdout secret (e.g. a kubeconfig). */
  secretStdout?: boolean;
  timeoutSeconds?: number;
}

interface Inputs {
  connection: SshConnectionInputs;
  create: string;
  update?: string;
  delete?: string;
  environment?: Record<string, string>;
  secretEnvironment?: Record<string, string>;
  uploads?: UploadInputs[];
  triggers?: unknown[];
  captureStdout?: boolean;
  timeoutSeconds?: number;
}

interface Outputs extends Inputs {
  stdout?: string;
}

/**
 * Everything the provider needs at run time lives inside this function: a
 * dynamic provider is serialized into state and re-created in the engine's
 * provider process, so it may not close over module-level helpers.
 */
export function makeProvider(): pulumi.dynamic.ResourceProvider {
  async function run(inputs: Inputs, script: string): Promise<string> {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const cp = require("child_process");
    const fs = require("fs");
    const os = require("os");
    const path = require("path");
    const crypto = require("crypto");
    /* eslint-enable @typescript-eslint/no-require-imports */

    const c = inputs.connection;
    const port = c.port ?? 22;
    const user = c.user ?? "root";
    const secrets = Object.values(inputs.secretEnvironment ?? {}).filter((v) => v.length >= 4);
    const redact = (s: string) => secrets.reduce((acc, v) => acc.split(v).join("[secret]"), s);
    const where = `host ${c.hostName} (${user}@${c.host}:${port})`;

    const dir: string = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-ssh-"));
    fs.chmodSync(dir, 0o700);
    // The backgrounded control master holds the connection (and, through fd
    // passing, the stdout/stderr pipes of every step) until it is told to go:
    // left alone it would outlive this call by ControlPersist, and a step's
    // timeout could not return before the remote script ends.
    const controlPath = path.join(dir, "cm");
    const closeMaster = () =>
      new Promise<void>((resolve) => {
        if (!fs.existsSync(controlPath)) return resolve();
        const k = cp.spawn(
          "ssh",
          ["-F", "/dev/null", "-o", `ControlPath=${controlPath}`, "-O", "exit", `${user}@${c.host}`],
          { stdio: "ignore" },
        );
        const t = setTimeout(() => k.kill("SIGKILL"), 5000);
        k.on("error", () => resolve());
        k.on("exit", () => {
          clearTimeout(t);
          resolve();
        });
      });

    try {
      const keyFile = path.join(dir, "id");
      fs.writeFileSync(keyFile, c.privateKey.endsWith("\n") ? c.privateKey : c.privateKey + "\n", { mode: 0o600 });
      const knownHosts = path.join(dir, "known_hosts");
      // Each pin is filed under its own alias (HostKeyAlias), so the host's and
      // the bastion's keys cannot be confused even when their addresses collide,
      // and ssh's error names which of the two failed.
      let known = `edgefleet-host ${c.hostKey.trim()}\n`;
      if (c.bastion) known += `edgefleet-bastion ${c.bastion.hostKey.trim()}\n`;
      fs.writeFileSync(knownHosts, known, { mode: 0o600 });

      const base = [
        "-F",
        "/dev/null",
        "-i",
        keyFile,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        `ConnectTimeout=${c.connectTimeoutSeconds ?? 10}`,
        "-o",
        "ServerAliveInterval=15",
        "-o",
        "LogLevel=ERROR",
      ];
      const common = [
        ...base,
        "-o",
        "HostKeyAlias=edgefleet-host",
        // One TCP connection and one login for all the steps of this call.
        "-o",
        "ControlMaster=auto",
        "-o",
        `ControlPath=${controlPath}`,
        "-o",
        "ControlPersist=30",
      ];
      if (c.bastion) {
        const b = c.bastion;
        const jump = [
          "ssh",
          ...base,
          "-o",
          "HostKeyAlias=edgefleet-bastion",
          "-p",
          String(b.port ?? 22),
          "-W",
          "%h:%p",
          `${b.user ?? user}@${b.host}`,
        ];
        // With ControlPersist, ssh sends the proxy's stderr to /dev/null; keep it
        // for explain(), which needs the bastion's own error (e.g. its host key).
        common.push("-o", `ProxyCommand=${jump.join(" ")} 2>>${path.join(dir, "proxy.err")}`);
      }
      const target = [...common, "-p", String(port), `${user}@${c.host}`];

      const explain = (stderr: string, code: number | null): string => {
        let proxyErr = "";
        try {
          proxyErr = fs.readFileSync(path.join(dir, "proxy.err"), "utf8");
        } catch {
          // no bastion, or it wrote nothing
        }
        const e = redact((proxyErr + stderr).trim());
        // Only ssh's own failures (exit 255) are connection problems; a script's
        // stderr saying "Connection refused" or "Permission denied" is the step's.
        if (code !== 255) {
          return `${where}: step failed with exit code ${code}:\n${e.split("\n").slice(-25).join("\n")}`;
        }
        if (c.bastion && /host key (for|is known for) edgefleet-bastion/i.test(e)) {
          return (
            `${where}: the SSH host key of its bastion ${c.bastion.host}:${c.bastion.port ?? 22} does not match ` +
            `the key pinned in the stack config. Nothing was sent to it. ` +
            `If the bastion was reinstalled, verify its new key out of band and update the pin.`
          );
        }
        if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key .* not known/i.test(e)) {
          return (
            `${where}: its SSH host key does not match the key pinned in the stack config` +
            `${c.hostKeyConfigPath ? ` (${c.hostKeyConfigPath})` : ""}. Nothing was sent to it. ` +
            `If the host was reinstalled, verify its new key out of band and update the pin.`
          );
        }
        if (
          /Connection timed out|No route to host|Connection refused|Could not resolve|Network is unreachable/i.test(e)
        ) {
          return (
            `${where} is unreachable over SSH (${e.split("\n").pop()}). ` +
            `Check its address and port in the stack config and that sshd runs on it.`
          );
        }
        if (/Permission denied/i.test(e)) {
          return (
            `${where} refused the SSH key (${e.split("\n").pop()}). ` +
            `Check edgefleet:ssh privateKey and the host's authorized_keys.`
          );
        }
        return `${where}: step failed with exit code ${code}:\n${e.split("\n").slice(-25).join("\n")}`;
      };

      const ssh = (remote: string[], stdin: string | Buffer | { file: string }, timeoutMs: number) =>
        new Promise<string>((resolve, reject) => {
          const child = cp.spawn("ssh", [...target, "--", ...remote], { stdio: ["pipe", "pipe", "pipe"] });
          let out = "";
          let err = "";
          const timer = setTimeout(() => {
            child.kill("SIGKILL");
            void closeMaster();
          }, timeoutMs);
          child.stdout.on("data", (d: Buffer) => (out += d.toString()));
          child.stderr.on("data", (d: Buffer) => (err += d.toString()));
          child.on("error", (e: Error) => reject(new Error(`${where}: cannot run ssh: ${e.message}`)));
          child.on("close", (code: number | null) => {
            clearTimeout(timer);
            if (code === 0) resolve(out);
            else
              reject(new Error(code === null ? `${where}: timed out after ${timeoutMs / 1000}s` : explain(err, code)));
          });
          child.stdin.on("error", () => undefined);
          if (typeof stdin === "object" && !Buffer.isBuffer(stdin)) {
            fs.createReadStream(stdin.file).pipe(child.stdin);
          } else {
            child.stdin.end(stdin);
          }
        });

      const timeoutMs = (inputs.timeoutSeconds ?? 900) * 1000;
      const q = (s: string) => `'${s.split("'").join(`'\\''`)}'`;

      // Every artifact is checked before anything is sent, so a wrong checksum
      // leaves the host untouched (not just the uploads after it).
      const uploads = inputs.uploads ?? [];
      const sums: string[] = [];
      for (const u of uploads) {
        const local = await new Promise<string>((resolve, reject) => {
          const h = crypto.createHash("sha256");
          fs.createReadStream(u.localPath)
            .on("error", reject)
            .on("data", (d: Buffer) => h.update(d))
            .on("end", () => resolve(h.digest("hex")));
        }).catch((e: Error) => {
          throw new Error(`${where}: cannot read artifact ${u.localPath}: ${e.message}`);
        });
        if (local !== u.sha256.toLowerCase()) {
          throw new Error(
            `${where}: artifact ${u.localPath} has sha256 ${local}, but the stack config ` +
              `pins ${u.sha256}. Nothing was uploaded. Fix the checksum in the stack config or replace the file.`,
          );
        }
        if (!/^[0-7]{3,4}$/.test(u.mode ?? "0644")) {
          throw new Error(`${where}: upload ${u.remotePath} has mode ${u.mode}; expected octal digits like "0755".`);
        }
        sums.push(local);
      }
      for (const [i, u] of uploads.entries()) {
        const local = sums[i];
        const mode = u.mode ?? "0644";
        // Content already there: send nothing, but apply the mode, which may have changed.
        const remoteSum = await ssh(
          [
            "bash",
            "-c",
            q(
              `s=$(sha256sum ${q(u.remotePath)} 2>/dev/null | cut -d' ' -f1); ` +
                `if [ "$s" = ${local} ]; then chmod ${mode} ${q(u.remotePath)}; fi; echo "$s"`,
            ),
          ],
          "",
          60000,
        );
        if (remoteSum.trim() === local) continue;
        await ssh(
          [
            "bash",
            "-c",
            q(
              `set -euo pipefail; mkdir -p "$(dirname ${q(u.remotePath)})"; ` +
                `t=$(mktemp ${q(u.remotePath)}.XXXXXX); cat >"$t"; ` +
                `echo "${local}  $t" | sha256sum -c --quiet - || { rm -f "$t"; echo "upload of ${u.remotePath} arrived corrupted" >&2; exit 1; }; ` +
                `chmod ${mode} "$t"; mv -f "$t" ${q(u.remotePath)}`,
            ),
          ],
          { file: u.localPath },
          timeoutMs,
        );
      }

      const exports = [
        ...Object.entries(inputs.environment ?? {}),
        ...Object.entries(inputs.secretEnvironment ?? {}),
      ].map(([k, v]) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`${where}: invalid environment name ${k}`);
        return `export ${k}=${q(v)}`;
      });
      const payload = [
        "__edgefleet_step() {",
        // The controller's clock when the step runs (preflight's skew check).
        `export EDGEFLEET_CONTROLLER_EPOCH=${Math.floor(Date.now() / 1000)}`,
        ...exports,
        script,
        "}",
        "__edgefleet_step </dev/null",
        "",
      ].join("\n");
      return await ssh(["bash", "-s"], payload, timeoutMs);
    } finally {
      await closeMaster();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  const keep = (inputs: Inputs, stdout: string): Outputs =>
    inputs.captureStdout ? { ...inputs, stdout } : { ...inputs };

  return {
    async diff(_id: string, olds: Outputs, news: Inputs) {
      // Only what reaches the host counts: the host it is (address, port,
      // user, pinned keys), scripts, environment and the uploads' remote
      // paths, modes and digests. Where the checkout lives (upload local
      // paths), which deploy key opens the session, timeouts and the texts of
      // error messages do not, so a second operator, a CI runner or a rotated
      // key sees no change. `__provider` (this provider's own serialized
      // code) does not either: a new Edgefleet release must not re-run every
      // step on every host.
      const reaching = (o: Inputs | Outputs) => {
        const c = o.connection;
        return JSON.stringify({
          connection: {
            host: c.host,
            port: c.port ?? 22,
            user: c.user ?? "root",
            hostKey: c.hostKey.trim(),
            bastion: c.bastion
              ? {
                  host: c.bastion.host,
                  port: c.bastion.port ?? 22,
                  user: c.bastion.user,
                  hostKey: c.bastion.hostKey.trim(),
                }
              : undefined,
          },
          create: o.create,
          update: o.update,
          delete: o.delete,
          environment: o.environment ?? {},
          secretEnvironment: o.secretEnvironment ?? {},
          uploads: (o.uploads ?? []).map((u) => ({
            remotePath: u.remotePath,
            sha256: u.sha256.toLowerCase(),
            mode: u.mode ?? "0644",
          })),
          triggers: o.triggers ?? [],
          captureStdout: !!o.captureStdout,
        });
      };
      const replaces = JSON.stringify(olds.triggers ?? []) !== JSON.stringify(news.triggers ?? []) ? ["triggers"] : [];
      return { changes: reaching(olds) !== reaching(news), replaces, deleteBeforeReplace: true };
    },
    async create(inputs: Inputs) {
      const stdout = await run(inputs, inputs.create);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return { id: require("crypto").randomUUID(), outs: keep(inputs, stdout) };
    },
    async update(_id: string, _olds: Outputs, news: Inputs) {
      const stdout = await run(news, news.update ?? news.create);
      return { outs: keep(news, stdout) };
    },
    async delete(_id: string, props: Outputs) {
      if (props.delete) await run(props, props.delete);
    },
  };
}

const provider = makeProvider();

export class HostCommand extends pulumi.dynamic.Resource {
  /** The script's stdout when `captureStdout` is set. */
  declare public readonly stdout: pulumi.Output<string | undefined>;

  constructor(name: string, args: HostCommandArgs, opts?: pulumi.CustomResourceOptions) {
    const secretOutputs = ["connection", "secretEnvironment"];
    if (args.secretStdout) secretOutputs.push("stdout");
    super(
      provider,
      name,
      {
        ...args,
        secretEnvironment: args.secretEnvironment ? pulumi.secret(args.secretEnvironment) : undefined,
        stdout: undefined,
      },
      { ...opts, additionalSecretOutputs: secretOutputs },
      "edgefleet",
      "HostCommand",
    );
  }
}
