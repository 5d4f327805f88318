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
  /**
   * OpenSSH private key (PEM/OpenSSH format). Pass a secret. @default the
   * stack setting `privateKeyConfig` names, read by the provider when a step
   * runs: the key is then in no step's state, and a rotated key is the one
   * every later run (a delete included) uses.
   */
  privateKey?: string;
  /**
   * Stack setting holding the key when `privateKey` is not given: a config
   * key, optionally with a field of its object value.
   * @default "edgefleet:ssh.privateKey"
   */
  privateKeyConfig?: string;
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

/**
 * A script kept in state by reference: a file of the project (relative to
 * its folder), an optional first part, and the sha256 of the whole text as it
 * reaches the host. The provider reads the file when the step runs.
 */
export interface ScriptRef {
  file: string;
  prelude?: string;
  sha256: string;
}

/** A step's script: its text, or a reference to a file of the project. */
export type ScriptInput = string | ScriptRef;

export interface HostCommandArgs {
  connection: pulumi.Input<{ [K in keyof SshConnectionInputs]: pulumi.Input<SshConnectionInputs[K]> }>;
  /** Script run on create. */
  create: pulumi.Input<ScriptInput>;
  /** Script run when inputs change without replacement; defaults to `create`. */
  update?: pulumi.Input<ScriptInput>;
  /** Script run on delete. */
  delete?: pulumi.Input<ScriptInput>;
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
  observe?: pulumi.Input<ScriptInput>;
}

/**
 * The provider, as the module text every step keeps in its state (inputs and
 * outputs both, as `__provider`) and the engine's provider process loads with
 * require-from-string, calling its `handler()`. It is written by hand, not
 * serialized from a closure as pulumi.dynamic.Resource does, because it is
 * stored once per step per host (issue 15: 2 KB as a serialized closure, 16 KB
 * before that): it only requires lib/hostCommandRun.ts (its `provider`, where
 * diff, create, update, delete and read are documented) from the project
 * folder, the provider process's working directory, which Node loads with its
 * own type stripping (Node 22.18 and later; index.ts refuses older ones). It
 * names no path of the checkout, so another checkout keeps the same text; and
 * since the dynamic provider never replaces a resource for a new provider
 * text, a new Edgefleet release changes no step's state and re-runs nothing.
 */
export const PROVIDER_MODULE =
  'exports.handler=()=>require(require("path").join(process.cwd(),"lib/hostCommandRun.ts")).dynamicProvider;\n';

/**
 * The type token pulumi.dynamic.Resource gives a resource of module
 * "edgefleet" and type "HostCommand": the engine sends it to its Node.js
 * dynamic provider, and existing steps keep their URNs.
 */
const HOST_COMMAND_TYPE = "pulumi-nodejs:dynamic/edgefleet:HostCommand";

export class HostCommand extends pulumi.CustomResource {
  /** The script's stdout when `captureStdout` is set. */
  declare public readonly stdout: pulumi.Output<string | undefined>;

  constructor(name: string, args: HostCommandArgs, opts?: pulumi.CustomResourceOptions) {
    // The connection is secret only when it carries the key itself.
    const secretOutputs = ["secretEnvironment"];
    if (args.connection && (args.connection as { privateKey?: unknown }).privateKey !== undefined)
      secretOutputs.push("connection");
    if (args.secretStdout) secretOutputs.push("stdout");
    super(
      HOST_COMMAND_TYPE,
      name,
      {
        ...args,
        secretEnvironment: args.secretEnvironment ? pulumi.secret(args.secretEnvironment) : undefined,
        stdout: undefined,
        __provider: PROVIDER_MODULE,
      },
      { ...opts, additionalSecretOutputs: secretOutputs },
    );
  }
}
