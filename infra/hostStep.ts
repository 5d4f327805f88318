/**
 * The host-step contract: one script run on one host over SSH, with its
 * environment, secret environment, checksummed uploads, triggers, delete
 * script and timeout, and the host key pinned before anything is sent. Every
 * step of the host layer (preflight, install, configure, service, a server's
 * leave, readiness, kubeconfig) is declared through hostStep(), and the stack setting
 * edgefleet:hostTransport chooses who carries it:
 *
 * - "command": `@pulumi/command`'s remote.Command and
 *   remote.CopyToRemote, what a Pulumi user expects in a host layer. The
 *   payload (script and environment, secrets included) goes on `stdin`, since
 *   its `environment` needs the host's sshd to AcceptEnv; logging is off for
 *   steps that carry secrets or a secret stdout; each upload is checked by
 *   sha256 on the host before the script runs; the engine hashes each upload's
 *   file at every preview, so the artifacts must be on the previewing machine.
 * - "openssh" (the default, config/schema.ts says why): the built-in
 *   transport (lib/hostCommand.ts), the system's OpenSSH with no plugin to
 *   install: for air-gapped controllers and the lab, where the command
 *   provider cannot be built or downloaded.
 *
 * On the host, both run the step under the same wrapper (lib/hostStep.sh,
 * sent at the head of the payload): in a session of its own, stopped at its
 * deadline or when the connection closes, under the host's lock.
 *
 * Differences an operator sees (README "Host transports"): with "command" a
 * rotated deploy key is an update of every step (the key is part of its
 * connection input), which re-runs each idempotent script once; and the
 * preflight clock check has no controller clock to compare with, since the
 * provider's inputs are fixed at preview.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { HostCommand, type HostLock } from "../lib/hostCommand";
import { controllerTimeoutSeconds, stepPayload, type StepGuard } from "../lib/hostCommandRun";
import type { HostTransport } from "../config/schema";
import { connectionFor, type HostAccess } from "./connection";
import { scriptInput } from "./scripts";

export type { HostTransport, HostLock };

export interface HostUpload {
  /** Path on the machine running Pulumi; only its content reaches the host. */
  localPath: string;
  remotePath: string;
  /** sha256 (hex) the file must have, checked before the script uses it. */
  sha256: string;
  /** @default "0644" */
  mode?: string;
}

export interface HostStepArgs {
  transport: HostTransport;
  access: HostAccess;
  /**
   * The deploy key, edgefleet:ssh.privateKey. "command" sends it as each
   * step's connection input; the built-in transport reads the same stack
   * setting when a step runs, so no step's state holds it.
   */
  privateKey: pulumi.Input<string>;
  /** Script run on create, and again when anything that reaches the host changes. */
  create: string;
  /** Script run when the step is removed, with `environment` (never secrets). @default none */
  delete?: string;
  environment?: Record<string, string>;
  /** Environment whose values are secrets: on stdin only, never logged. */
  secretEnvironment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  uploads?: HostUpload[];
  /** Any change replaces the step (delete, then create). */
  triggers?: pulumi.Input<unknown[]>;
  /** Keep stdout as an output. @default false */
  captureStdout?: boolean;
  /** Mark stdout secret (a kubeconfig). @default false */
  secretStdout?: boolean;
  /**
   * The step's whole time on the host, the wait for the host lock included:
   * the host stops every process of it there (lib/hostStep.sh). @default 900
   */
  timeoutSeconds?: number;
  /**
   * The host lock it takes: "exclusive" (it changes the host), "shared" (it
   * only reads it), "none" (it runs there on behalf of another host).
   * @default "exclusive"
   */
  lock?: HostLock;
  /**
   * Script `pulumi refresh` runs to read what the host has for this step's
   * environment keys (infra/scripts/observe.sh), so drift shows and the next
   * `up` re-runs the step. Built-in transport only: remote.Command has no
   * host read, and ignores it. @default none: refresh reads nothing
   */
  observe?: string;
}

/** A declared step: depend on it, read its stdout. */
export type HostStep = pulumi.CustomResource & { readonly stdout: pulumi.Output<string | undefined> };

const q = (s: string) => `'${s.split("'").join(`'\\''`)}'`;

/**
 * The lines the standard transport puts before a step's script: each upload
 * must have its pinned sha256 on the host (CopyToRemote writes in place, so
 * a broken transfer is caught here) and gets its mode.
 */
export function uploadChecks(uploads: HostUpload[]): string {
  return uploads
    .map((u) => {
      const mode = u.mode ?? "0644";
      if (!/^[0-7]{3,4}$/.test(mode)) throw new Error(`upload ${u.remotePath} has mode ${mode}; expected octal digits`);
      return (
        `echo ${q(`${u.sha256.toLowerCase()}  ${u.remotePath}`)} | sha256sum -c --quiet - ` +
        `|| { echo ${q(`upload of ${u.remotePath} does not have its pinned sha256`)} >&2; exit 1; }\n` +
        `chmod ${mode} ${q(u.remotePath)}`
      );
    })
    .join("\n");
}

/** The command provider's connection: the same pinned keys and bastion as the built-in transport. */
function commandConnection(a: HostAccess, privateKey: pulumi.Input<string>): command.types.input.remote.ConnectionArgs {
  return {
    host: a.address,
    port: a.port,
    user: a.user,
    privateKey: pulumi.secret(privateKey),
    hostKey: a.hostKey,
    proxy: a.bastion
      ? {
          host: a.bastion.address,
          port: a.bastion.port,
          user: a.bastion.user,
          privateKey: pulumi.secret(privateKey),
          hostKey: a.bastion.hostKey,
        }
      : undefined,
  };
}

export function hostStep(name: string, args: HostStepArgs, opts: pulumi.CustomResourceOptions = {}): HostStep {
  // A delete script travels in the standard provider's command text, which
  // the host's sshd hands to a shell: it may not carry secrets, on either transport.
  if (args.delete !== undefined && args.secretEnvironment !== undefined) {
    throw new Error(`host step ${name}: a step with a delete script carries no secret environment`);
  }
  // What the host-side wrapper is told, the same on both transports; fixed at
  // preview (the standard transport stores it in its stdin).
  const guard: StepGuard = {
    step: `${pulumi.getStack()}/${name}`,
    lock: args.lock,
    timeoutSeconds: args.timeoutSeconds,
  };
  if (args.transport === "openssh") {
    return new HostCommand(
      name,
      {
        // The key is read from the stack when a step runs, and scripts are
        // kept by reference: neither is stored per step (README "Host steps in state").
        connection: connectionFor(args.access),
        create: scriptInput(args.create),
        delete: args.delete === undefined ? undefined : scriptInput(args.delete),
        environment: args.environment,
        secretEnvironment: args.secretEnvironment,
        uploads: args.uploads,
        triggers: args.triggers,
        captureStdout: args.captureStdout,
        secretStdout: args.secretStdout,
        timeoutSeconds: args.timeoutSeconds,
        step: guard.step,
        lock: args.lock,
        observe: args.observe === undefined ? undefined : scriptInput(args.observe),
      },
      opts,
    );
  }
  const connection = commandConnection(args.access, args.privateKey);
  const uploads = args.uploads ?? [];
  // CopyToRemote writes into an existing folder: one step makes the folders
  // first. The copies wait for what the step waits for; the step waits for them.
  const dirs = [...new Set(uploads.map((u) => u.remotePath.replace(/\/[^/]*$/, "") || "/"))];
  const mkdirs =
    dirs.length === 0
      ? undefined
      : new command.remote.Command(
          `${name}-dirs`,
          { connection, create: `mkdir -p ${dirs.map(q).join(" ")}`, logging: "stderr" },
          opts,
        );
  const copies = uploads.map(
    (u, i) =>
      new command.remote.CopyToRemote(
        `${name}-upload-${i}`,
        {
          connection,
          source: new pulumi.asset.FileAsset(u.localPath),
          remotePath: u.remotePath,
          // Content, not the checkout's path, decides a re-send (assets compare by hash).
          triggers: [u.sha256.toLowerCase()],
        },
        { ...opts, dependsOn: [mkdirs!] },
      ),
  );
  const script = uploads.length > 0 ? `${uploadChecks(uploads)}\n${args.create}` : args.create;
  const hasSecrets = args.secretEnvironment !== undefined;
  const stdin = pulumi
    .output(args.secretEnvironment ?? {})
    .apply((secret) => stepPayload(script, args.environment, secret as Record<string, string>, guard));
  // The delete script has no secrets: it travels in the command itself, as a here-document.
  const deleteCommand =
    args.delete === undefined
      ? undefined
      : `bash -s <<'__EDGEFLEET_DELETE__'\n${stepPayload(args.delete, args.environment, {}, guard)}__EDGEFLEET_DELETE__\n`;
  // The engine's timeout is a backstop past the host's own deadline, as the
  // built-in transport's (controllerTimeoutSeconds): the host stops the step
  // and says so; the engine gives up only on a host that stopped answering.
  const timeout = `${controllerTimeoutSeconds(args.timeoutSeconds ?? 900)}s`;
  const step = new command.remote.Command(
    name,
    {
      connection,
      create: "bash -s",
      stdin: hasSecrets ? pulumi.secret(stdin) : stdin,
      delete: deleteCommand,
      triggers: args.triggers,
      logging: hasSecrets || args.secretStdout ? "none" : "stdoutAndStderr",
    },
    {
      ...opts,
      dependsOn: copies.length > 0 ? copies : opts.dependsOn,
      additionalSecretOutputs: args.secretStdout ? ["stdout"] : undefined,
      customTimeouts: { create: timeout, update: timeout, delete: timeout },
    },
  );
  return step as HostStep;
}
