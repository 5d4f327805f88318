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
 * - on the host, each step runs under lib/hostStep.sh: in a session of its
 *   own with a deadline, stopped when the connection closes, and under the
 *   host's lock;
 * - files are uploaded only when the host's sha256 differs from the local one;
 * - diffs are computed locally, so `pulumi up` with no changes opens no SSH
 *   session at all; only `pulumi refresh` reads hosts (a step's `observe`).
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
  /**
   * The site the host belongs to, named before the host in every error
   * message, so a region's failures say which site they stop. Messages only:
   * not part of the diff. @default none (the message names the host alone)
   */
  site?: string;
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

/**
 * Which host lock a step takes (lib/hostStep.sh): "exclusive" for a step that
 * changes the host it runs on; "shared" for one that only reads it, which
 * waits for a change under way but not for other readers; "none" for one that
 * runs on a host on behalf of another (readiness and drain on a server), which
 * must not queue behind its siblings.
 */
export type HostLock = "exclusive" | "shared" | "none";

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
  /**
   * The step's whole time on the host, the wait for its lock included: the
   * host stops it there (lib/hostStep.sh). @default 900
   */
  timeoutSeconds?: number;
  /** Who the step is, in the host's lock records and messages: "<stack>/<resource name>". */
  step?: string;
  /** @default "exclusive" */
  lock?: HostLock;
  /**
   * Script run by `pulumi refresh` (and only then): prints one line
   * `EDGEFLEET_OBSERVED {json}` of what the host has for the environment keys
   * it can observe (lib/hostCommandRun.ts observedEnvironment), which replace
   * the stored values, so drift shows as their diff and the next `up` re-runs
   * the step. Gets the environment, never the secret environment. Not part of
   * the diff: adding or changing it re-runs nothing (so it is stored, and
   * observed, from the step's next run). @default none: refresh reads nothing
   */
  observe?: pulumi.Input<string>;
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
  step?: string;
  lock?: HostLock;
  observe?: string;
}

interface Outputs extends Inputs {
  stdout?: string;
}

/**
 * Everything the provider needs at run time lives inside this function: a
 * dynamic provider is serialized into state (source text, comments included,
 * for every step) and re-created in the engine's provider process, so it may
 * not close over module-level helpers, and it stays small. Hence the comments
 * here rather than inside:
 *
 * - The runtime that talks to hosts (lib/hostCommandRun.ts) is read from the
 *   checkout only when a step runs; a no-op, which only diffs, never loads it.
 *   The provider process has no TypeScript loader, so it transpiles that one
 *   file with the project's typescript (every Pulumi TypeScript program has
 *   it) and keeps the result for the life of the process. It reads the
 *   host-side wrapper, lib/hostStep.sh, next to it.
 * - diff: only what reaches the host counts: the host it is (address, port,
 *   user, pinned keys), scripts, environment and the uploads' remote paths,
 *   modes and digests. Where the checkout lives (upload local paths), which
 *   deploy key opens the session, timeouts, the step's name and lock mode
 *   (how a step runs there, not what it does) and the texts of error messages
 *   do not, so a second operator, a CI runner or a rotated key sees no change.
 *   Nor does `__provider` (this code): a new Edgefleet release must not re-run
 *   every step on every host. Nor does the observe script.
 * - read (`pulumi refresh` only, never a plain `up`): a step with an observe
 *   script reports what its host has for its environment keys; they replace
 *   the stored ones, so the next diff sees the drift. Without one, the stored
 *   state stays as it is.
 */
export function makeProvider(): pulumi.dynamic.ResourceProvider {
  type Runtime = {
    runStep(inputs: Inputs, script: string): Promise<string>;
    observeStep(inputs: Inputs): Promise<Record<string, string>>;
  };
  function runtime(): Runtime {
    const cache = globalThis as { edgefleetHostRuntime?: Runtime };
    if (!cache.edgefleetHostRuntime) {
      /* eslint-disable @typescript-eslint/no-require-imports */
      const fs = require("fs");
      const path = require("path");
      const Module = require("module");
      const file = path.join(process.cwd(), "lib", "hostCommandRun.ts");
      if (!fs.existsSync(file)) {
        throw new Error(`HostCommand: ${file} not found; run pulumi from the Edgefleet project folder.`);
      }
      const ts = require(require.resolve("typescript", { paths: [process.cwd()] }));
      /* eslint-enable @typescript-eslint/no-require-imports */
      const js = ts.transpileModule(fs.readFileSync(file, "utf8"), {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      const m = new Module(file);
      m.filename = file;
      m.paths = Module._nodeModulePaths(path.dirname(file));
      m._compile(js, file);
      cache.edgefleetHostRuntime = m.exports;
    }
    return cache.edgefleetHostRuntime!;
  }
  const run = (inputs: Inputs, script: string) => runtime().runStep(inputs, script);

  const keep = (inputs: Inputs, stdout: string): Outputs =>
    inputs.captureStdout ? { ...inputs, stdout } : { ...inputs };

  return {
    async diff(_id: string, olds: Outputs, news: Inputs) {
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
      return { id: require("crypto").randomUUID(), outs: keep(inputs, stdout) }; // eslint-disable-line @typescript-eslint/no-require-imports
    },
    async update(_id: string, _olds: Outputs, news: Inputs) {
      const stdout = await run(news, news.update ?? news.create);
      return { outs: keep(news, stdout) };
    },
    async delete(_id: string, props: Outputs) {
      if (props.delete) await run(props, props.delete);
    },
    async read(id: string, props: Outputs) {
      if (!props.observe) return { id, props };
      return { id, props: { ...props, environment: await runtime().observeStep(props) } };
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
