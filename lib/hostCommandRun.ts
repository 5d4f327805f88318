/**
 * The part of HostCommand that talks to a host: OpenSSH with the pinned host
 * key, uploads checked by sha256, the script and its secrets on stdin.
 *
 * It is not serialized into state with the provider (lib/hostCommand.ts): the
 * provider process loads this file from the checkout. That keeps each step's
 * state to what reaches the host (16 KB of code per step and twice over,
 * before). Node built-ins only, and type-only imports: the provider process
 * loads this one file, nothing it imports.
 */
import * as cp from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { HostLock, ScriptInput, ScriptRef, SshConnectionInputs, UploadInputs } from "./hostCommand";

/**
 * An SSH login name as useradd takes it (the stack schema holds users to it
 * too). User, host and port go into ssh's argument vector and the bastion's
 * ProxyCommand, which ssh hands to a shell: a leading "-" would be an ssh
 * option, and spaces, quotes, `;`, `$()` or a newline would reach that shell.
 */
export const SSH_USER = /^[a-z_][a-z0-9_.-]{0,31}$/;
/** An IP literal or a DNS name; never starts with "-". */
export const SSH_HOST = /^(?:[0-9a-fA-F:.]+|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/;

/** The first value of a connection that is not plain, as "<field> <value>", or undefined. */
export function unplainSshField(c: SshConnectionInputs): string | undefined {
  const checks: Array<[string, unknown, (v: unknown) => boolean]> = [
    ["host", c.host, (v) => typeof v === "string" && SSH_HOST.test(v)],
    ["user", c.user ?? "root", (v) => typeof v === "string" && SSH_USER.test(v)],
    ["port", c.port ?? 22, (v) => Number.isInteger(v) && (v as number) > 0 && (v as number) < 65536],
  ];
  if (c.bastion) {
    const b = c.bastion;
    checks.push(
      ["bastion host", b.host, (v) => typeof v === "string" && SSH_HOST.test(v)],
      ["bastion user", b.user ?? c.user ?? "root", (v) => typeof v === "string" && SSH_USER.test(v)],
      ["bastion port", b.port ?? 22, (v) => Number.isInteger(v) && (v as number) > 0 && (v as number) < 65536],
    );
  }
  const bad = checks.find(([, v, ok]) => !ok(v));
  return bad ? `${bad[0]} ${JSON.stringify(bad[1])}` : undefined;
}

/** What the host-side wrapper needs to know of a step; the same on both transports. */
export interface StepGuard {
  /** Who the step is, in the holder record and messages: "<stack>/<resource name>". */
  step?: string;
  /** @default "exclusive" */
  lock?: HostLock;
  /** The step's whole time on the host, the wait for the lock included. @default 900 */
  timeoutSeconds?: number;
}

/** What only the built-in transport knows, since it builds the payload when the step runs. */
export interface RunFacts {
  /** The controller's clock (preflight's skew check). */
  controllerEpoch?: number;
  /** Who runs the step, for the holder record: "<hostname> (user <u>, pid <p>)". */
  controller?: string;
}

/** How long a step may wait for its host lock: a bounded wait, then a refusal naming the holder. */
export const LOCK_WAIT_SECONDS = 60;

/** Between TERM and KILL when a step times out on the host: a tenth of its timeout, 1 to 10 s. */
export function killAfterSeconds(timeoutSeconds: number): number {
  return Math.min(10, Math.max(1, Math.ceil(timeoutSeconds / 10)));
}

/**
 * How long the controller waits for a step before it gives up on the host
 * (closes the connection): after the host's own deadline and kill, plus slack
 * for the connection. The host ends a step by itself; this only bounds a host
 * or network that stopped answering.
 */
export function controllerTimeoutSeconds(timeoutSeconds: number): number {
  return timeoutSeconds + killAfterSeconds(timeoutSeconds) + 15;
}

let wrapperText: string | undefined;

/**
 * lib/hostStep.sh without its comment and blank lines (the file has no
 * heredoc or multi-line string, so no such line is data): sent with every
 * step, and stored with every step of the standard transport.
 */
export function hostWrapper(): string {
  if (wrapperText === undefined) {
    // Loaded by Node's type stripping (the provider process), this file is an
    // ES module with no __filename of its own; the loader takes it from <cwd>/lib.
    const own = typeof __filename === "string" && path.basename(__filename) === "hostCommandRun.ts";
    const here = own ? path.dirname(__filename) : path.join(process.cwd(), "lib");
    const file = path.join(here, "hostStep.sh");
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      throw new Error(`host steps: cannot read their host-side wrapper ${file}: ${(e as Error).message}`);
    }
    wrapperText = text
      .split("\n")
      .filter((l) => !/^\s*(#|$)/.test(l))
      .join("\n");
    wrapperText += "\n";
  }
  return wrapperText;
}

const HOST_LOCKS: readonly HostLock[] = ["exclusive", "shared", "none"];

/**
 * What a host step sends on the SSH session's stdin to `bash -s`, for both
 * transports (infra/hostStep.ts), in three parts (lib/hostStep.sh says how
 * they run): the wrapper's settings, the wrapper, and the step. The step is
 * its script inside a function, its environment (secrets included) exported
 * first, and the function's own stdin /dev/null so no command in the script
 * can read the rest of the payload; only the step's own shell reads that part.
 * Nothing of it is on a command line. `run` holds what the built-in transport
 * adds when the step runs (the controller's clock and name); the standard
 * transport fixes its inputs at preview, so it has none: an input that changed
 * on every run would re-run the step every time.
 */
export function stepPayload(
  script: string,
  environment: Record<string, string> = {},
  secretEnvironment: Record<string, string> = {},
  guard: StepGuard = {},
  run: RunFacts = {},
): string {
  const q = (s: string) => `'${s.split("'").join(`'\\''`)}'`;
  // The holder record is one line per field: no control characters in its values.
  const line = (s: string) => s.replace(/[^ -~\u0080-\uffff]/g, "?");
  // Not `exports`: in the CommonJS this file becomes, that name is the module's.
  const exported = [...Object.entries(environment), ...Object.entries(secretEnvironment)].map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`invalid environment name ${k}`);
    return `export ${k}=${q(v)}`;
  });
  const timeout = guard.timeoutSeconds ?? 900;
  if (!Number.isInteger(timeout) || timeout < 1) throw new Error(`invalid timeoutSeconds ${timeout}`);
  // Every secret value, whole and line by line, longest first (as the built-in
  // transport's own redaction): the step's output passes through a filter that
  // replaces them, on the host, before anything leaves it. @pulumi/command puts
  // a failing step's whole stdout and stderr into its error text, unfiltered.
  const secretValues = [
    ...new Set(
      Object.values(secretEnvironment)
        .flatMap((v) => [v, ...v.split("\n").map((l) => l.trim())])
        .filter((v) => v.length >= 4),
    ),
  ].sort((a, b) => b.length - a.length);
  const redaction =
    secretValues.length === 0
      ? []
      : [
          `__ef_secrets=(${secretValues.map(q).join(" ")})`,
          '__ef_r() { for s in "${__ef_secrets[@]}"; do l=${l//"$s"/[secret]}; done; }',
          // A last line without its newline is passed on without one.
          "__ef_redact() { local l s; while IFS= read -r l; do __ef_r; printf '%s\\n' \"$l\"; done; " +
            'if [ -n "$l" ]; then __ef_r; printf \'%s\' "$l"; fi; }',
          "exec > >(__ef_redact) 2> >(__ef_redact >&2)",
        ];
  const lock = guard.lock ?? "exclusive";
  if (!HOST_LOCKS.includes(lock)) throw new Error(`invalid host lock ${JSON.stringify(lock)}`);
  return [
    `EDGEFLEET_STEP=${q(line(guard.step ?? "unnamed step"))}`,
    `EDGEFLEET_LOCK=${lock}`,
    `EDGEFLEET_TIMEOUT=${timeout}`,
    `EDGEFLEET_KILL_AFTER=${killAfterSeconds(timeout)}`,
    `EDGEFLEET_LOCK_WAIT=${LOCK_WAIT_SECONDS}`,
    ...(run.controller === undefined ? [] : [`EDGEFLEET_CONTROLLER=${q(line(run.controller))}`]),
    hostWrapper() + "__edgefleet_step() {",
    ...(run.controllerEpoch === undefined ? [] : [`export EDGEFLEET_CONTROLLER_EPOCH=${run.controllerEpoch}`]),
    ...exported,
    ...redaction,
    script,
    "}",
    "__edgefleet_step </dev/null",
    "",
  ].join("\n");
}

/** The wrapper's view of a step's inputs, as the provider receives them. */
export function guardOf(inputs: Pick<StepInputs, "step" | "lock" | "timeoutSeconds">): StepGuard {
  return { step: inputs.step, lock: inputs.lock, timeoutSeconds: inputs.timeoutSeconds };
}

/** What a step needs to run: the resource's inputs as the provider receives them. */
export interface StepInputs {
  connection: SshConnectionInputs;
  environment?: Record<string, string>;
  secretEnvironment?: Record<string, string>;
  uploads?: UploadInputs[];
  timeoutSeconds?: number;
  /** "<stack>/<resource name>" (infra/hostStep.ts). */
  step?: string;
  lock?: HostLock;
}

/** This controller, as a host's lock holder record names it. */
function controllerName(): string {
  let user = "?";
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (a container's arbitrary uid)
  }
  return `${os.hostname()} (user ${user}, pid ${process.pid})`;
}

const hashes = new Map<string, Promise<string>>();

/**
 * A local file's sha256, computed once per file version in this process:
 * every host of a site uploads the same artifacts side by side, and hashing
 * hundreds of MB again per host would cost the controller a core per host.
 * Keyed by inode, size and mtime, so a file replaced or rewritten in place is
 * hashed again.
 */
export function localSha256(file: string): Promise<string> {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    return Promise.reject(e as Error);
  }
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  let p = hashes.get(key);
  if (!p) {
    p = new Promise<string>((resolve, reject) => {
      const h = crypto.createHash("sha256");
      fs.createReadStream(file)
        .on("error", reject)
        .on("data", (d) => h.update(d))
        .on("end", () => resolve(h.digest("hex")));
    });
    hashes.set(key, p);
    p.catch(() => hashes.delete(key));
  }
  return p;
}

export async function runStep(inputs: StepInputs, script: string): Promise<string> {
  const c = withPrivateKey(inputs.connection);
  const unplain = unplainSshField(c);
  if (unplain) {
    // Before any process starts: the value must never reach ssh or a shell.
    throw new Error(
      `host ${JSON.stringify(c.hostName)}: SSH ${unplain} is not plain; nothing was run. Fix the host's entry in the stack config.`,
    );
  }
  const port = c.port ?? 22;
  const q = (s: string) => `'${s.split("'").join(`'\\''`)}'`;
  const user = c.user ?? "root";
  // Every secret input, whole and line by line (a tool may print one line of a
  // key or a kubeconfig): the secret environment, and the SSH key itself.
  const secretInputs = [...Object.values(inputs.secretEnvironment ?? {}), c.privateKey ?? ""];
  const secrets = [
    ...new Set(secretInputs.flatMap((v) => [v, ...v.split("\n").map((l) => l.trim())]).filter((v) => v.length >= 4)),
  ].sort((a, b) => b.length - a.length);
  const redact = (s: string) => secrets.reduce((acc, v) => acc.split(v).join("[secret]"), s);
  const where = `${c.site ? `site ${c.site} ` : ""}host ${c.hostName} (${user}@${c.host}:${port})`;

  const dir: string = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-ssh-"));
  fs.chmodSync(dir, 0o700);
  // The backgrounded control master holds the connection (and, through fd
  // passing, the stdout/stderr pipes of every step) until it is told to go:
  // left alone it would outlive this call by ControlPersist, and a step's
  // timeout could not return before the remote script ends.
  const controlPath = path.join(dir, "cm");
  const control = (op: "check" | "exit") =>
    new Promise<string>((resolve) => {
      const k = cp.spawn(
        "ssh",
        ["-F", "/dev/null", "-o", `ControlPath=${controlPath}`, "-O", op, `${user}@${c.host}`],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      let err = "";
      k.stderr.on("data", (d: Buffer) => (err += d.toString()));
      const t = setTimeout(() => k.kill("SIGKILL"), 5000);
      k.on("error", () => resolve(""));
      k.on("exit", () => {
        clearTimeout(t);
        resolve(err);
      });
    });
  // `-O exit` only asks the master to go; it leaves a moment later. Waiting
  // for its pid to be gone makes "no ssh process outlives the step" hold when
  // the call returns, not shortly after.
  const closeMaster = async () => {
    if (!fs.existsSync(controlPath)) return;
    const pid = Number(/pid=(\d+)/.exec(await control("check"))?.[1] ?? 0);
    await control("exit");
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; pid > 0 && alive() && i < 100; i++) await new Promise((r) => setTimeout(r, 50));
  };

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
      // ssh runs ProxyCommand through a shell: every part is quoted (and user,
      // host and port were checked plain above). With ControlPersist, ssh sends
      // the proxy's stderr to /dev/null; keep it for explain(), which needs the
      // bastion's own error (e.g. its host key).
      common.push("-o", `ProxyCommand=${jump.map(q).join(" ")} 2>>${q(path.join(dir, "proxy.err"))}`);
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
      // The host-side wrapper's own refusals and its timeout (lib/hostStep.sh):
      // its message, and for a timeout what the step wrote last.
      const wrapper = /^edgefleet: .*$/m.exec(e);
      if (wrapper && (code === 124 || code === 75 || code === 70)) {
        const before = e.slice(0, wrapper.index).trimEnd();
        const own = e.slice(wrapper.index).replace(/^edgefleet: /, "");
        if (code === 124) {
          const tail = before.split("\n").slice(-20).join("\n");
          return `${where}: ${own}${tail ? `\nThe step's last output:\n${tail}` : ""}`;
        }
        return `${where}: ${own}`;
      }
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

    const timeoutSeconds = inputs.timeoutSeconds ?? 900;
    const timeoutMs = timeoutSeconds * 1000;
    const scriptTimeoutMs = controllerTimeoutSeconds(timeoutSeconds) * 1000;
    const gaveUp = (ms: number) =>
      ms === scriptTimeoutMs
        ? `timed out after ${timeoutSeconds}s, and the host did not report it within ${ms / 1000 - timeoutSeconds}s more; ` +
          `the connection was closed, which stops the step on the host if it still runs there`
        : `timed out after ${ms / 1000}s`;

    const ssh = (remote: string[], stdin: string | Buffer | { file: string }, timeoutMs: number) =>
      new Promise<string>((resolve, reject) => {
        const child = cp.spawn("ssh", [...target, "--", ...remote], { stdio: ["pipe", "pipe", "pipe"] });
        let out = "";
        let err = "";
        // Giving up closes the connection: the mux client is killed and the
        // master told to go, so the host's sshd session ends, and the wrapper's
        // watcher (lib/hostStep.sh) stops what is left of the step there. For
        // the script this fires only after the host's own deadline (see
        // controllerTimeoutSeconds), i.e. when the host or the network stopped
        // answering.
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
          void closeMaster();
        }, timeoutMs);
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.on("error", (e: Error) => reject(new Error(`${where}: cannot run ssh: ${e.message}`)));
        child.on("close", (code: number | null, signal: string | null) => {
          clearTimeout(timer);
          if (code === 0) resolve(out);
          else if (timedOut) reject(new Error(`${where}: ${gaveUp(timeoutMs)}`));
          else if (code === null) reject(new Error(`${where}: ssh was killed (${signal}) before the step ended`));
          else reject(new Error(explain(err, code)));
        });
        child.stdin.on("error", () => undefined);
        if (typeof stdin === "object" && !Buffer.isBuffer(stdin)) {
          fs.createReadStream(stdin.file).pipe(child.stdin);
        } else {
          child.stdin.end(stdin);
        }
      });

    // Every artifact is checked before anything is sent, so a wrong checksum
    // leaves the host untouched (not just the uploads after it).
    const uploads = inputs.uploads ?? [];
    const sums: string[] = [];
    for (const u of uploads) {
      const local = await localSha256(u.localPath).catch((e: Error) => {
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

    let payload: string;
    try {
      payload = stepPayload(script, inputs.environment, inputs.secretEnvironment, guardOf(inputs), {
        controllerEpoch: Math.floor(Date.now() / 1000),
        controller: controllerName(),
      });
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    return await ssh(["bash", "-s"], payload, scriptTimeoutMs);
  } finally {
    await closeMaster();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The line an observe script prints: `EDGEFLEET_OBSERVED {"KEY":"value",...}` (infra/scripts/observe.sh). */
export const OBSERVED_PREFIX = "EDGEFLEET_OBSERVED ";

/**
 * A step's declared environment with each key the host reported replaced by
 * what the host has, normalized so that a host as declared gives back the
 * declared values exactly (no diff after `pulumi refresh`). An observed value
 * is either the value itself (a digest key such as K3S_SHA256: the installed
 * file's sha256) or `sha256:<hex>` of a content key's file (CONFIG_YAML),
 * which stands for the declared content when it is that content's digest.
 * Anything else stays as observed and shows as drift; a key the host did not
 * report, or one the step does not declare, is left alone.
 */
export function observedEnvironment(
  declared: Record<string, string>,
  observed: Record<string, unknown>,
): Record<string, string> {
  const out = { ...declared };
  for (const [key, value] of Object.entries(observed)) {
    if (!(key in declared) || typeof value !== "string") continue;
    const want = declared[key];
    const digest = crypto.createHash("sha256").update(want, "utf8").digest("hex");
    out[key] = value === want || value === `sha256:${digest}` ? want : value;
  }
  return out;
}

/** What a step needs to be observed: its inputs and its observe script. */
export interface ObserveInputs extends StepInputs {
  observe: string;
}

/**
 * `pulumi refresh` of a step (HostCommand's read): runs its observe script
 * on the host under a shared lock, with the step's environment and never its
 * secrets (nothing secret is read back either: the scripts report digests),
 * and returns the environment as the host has it. A host that cannot be
 * reached, or a script that reports nothing, is an error naming the host:
 * never "no drift".
 */
export async function observeStep(inputs: ObserveInputs): Promise<Record<string, string>> {
  const step = inputs.step ?? "unnamed step";
  let stdout: string;
  try {
    stdout = await runStep(
      {
        connection: inputs.connection,
        environment: inputs.environment,
        step: `${step} (refresh)`,
        lock: "shared",
        timeoutSeconds: 120,
      },
      inputs.observe,
    );
  } catch (e) {
    throw new Error(
      `refresh of ${step}: cannot read the host's installed state, so its drift is unknown: ${(e as Error).message}`,
    );
  }
  const line = stdout.split("\n").find((l) => l.startsWith(OBSERVED_PREFIX));
  let observed: unknown;
  try {
    observed = line === undefined ? undefined : JSON.parse(line.slice(OBSERVED_PREFIX.length));
  } catch {
    observed = undefined;
  }
  if (typeof observed !== "object" || observed === null || Array.isArray(observed)) {
    throw new Error(
      `refresh of ${step} on host ${inputs.connection.hostName}: its observe script printed no ` +
        `${OBSERVED_PREFIX.trim()} {json} line, so its drift is unknown. Got: ${stdout.trim().slice(-300) || "(nothing)"}`,
    );
  }
  return observedEnvironment(inputs.environment ?? {}, observed as Record<string, unknown>);
}

const sha256Text = (s: string) => crypto.createHash("sha256").update(s, "utf8").digest("hex");

/** What a diff compares of a script: the digest of its text as it reaches the host, inline or by reference. */
export function scriptDigest(s: ScriptInput | undefined): string | undefined {
  if (s === undefined) return undefined;
  return typeof s === "string" ? sha256Text(s) : s.sha256.toLowerCase();
}

/**
 * A script's text. A reference is read from the project folder (the
 * provider's working folder) and must have its digest, with one exception:
 * a delete or a refresh of a step declared by another Edgefleet release runs
 * this checkout's version of its script, since the text that ran at create
 * is not kept (scripts remove and read what any release installed; README
 * "Host steps in state").
 */
export function scriptText(s: ScriptInput, use: "run" | "delete" | "observe", step: string): string {
  if (typeof s === "string") return s;
  const ref: ScriptRef = s;
  if (path.isAbsolute(ref.file) || ref.file.split(/[\\/]/).includes("..")) {
    throw new Error(`${step}: script reference ${ref.file} is not a file of the project`);
  }
  const file = path.join(process.cwd(), ref.file);
  let body: string;
  try {
    body = fs.readFileSync(file, "utf8");
  } catch {
    throw new Error(
      `${step}: its script ${ref.file} is not in ${process.cwd()}; run pulumi from the Edgefleet project folder.`,
    );
  }
  const text = ref.prelude === undefined ? body : `${ref.prelude}\n${body}`;
  if (use === "run" && sha256Text(text) !== ref.sha256.toLowerCase()) {
    throw new Error(
      `${step}: ${ref.file} changed while pulumi ran (its sha256 is not the one the program declared); run it again.`,
    );
  }
  return text;
}

/** The stack's configuration, as the engine gives it to the provider (every key, secrets in the clear). */
let stackConfig: { get(key: string): string | undefined } | undefined;

/** The connection with its private key: given inline, or read from the stack setting it names. */
export function withPrivateKey(c: SshConnectionInputs): SshConnectionInputs & { privateKey: string } {
  if (c.privateKey) return { ...c, privateKey: c.privateKey };
  const setting = c.privateKeyConfig ?? "edgefleet:ssh.privateKey";
  const dot = setting.indexOf(".", setting.indexOf(":") + 1);
  const key = dot < 0 ? setting : setting.slice(0, dot);
  const field = dot < 0 ? undefined : setting.slice(dot + 1);
  const raw = stackConfig?.get(key);
  let value: unknown = raw;
  if (field !== undefined) {
    try {
      value = raw === undefined ? undefined : (JSON.parse(raw) as Record<string, unknown>)[field];
    } catch {
      value = undefined;
    }
  }
  if (typeof value !== "string" || value.trim() === "") {
    throw new Error(
      `host ${c.hostName}: no SSH private key: the stack has no ${setting}. Set it with ` +
        `\`pulumi config set --secret --path ${setting} < <key file>\`; nothing was run.`,
    );
  }
  return { ...c, privateKey: value };
}

/** A HostCommand's inputs as the provider receives them (lib/hostCommand.ts). */
export interface HostCommandState extends StepInputs {
  create: ScriptInput;
  update?: ScriptInput;
  delete?: ScriptInput;
  triggers?: unknown[];
  captureStdout?: boolean;
  observe?: ScriptInput;
  stdout?: string;
}

/**
 * What a step keeps as its outputs, besides its inputs (which the engine
 * keeps anyway): what delete and read run with (the connection, the delete
 * and observe scripts, the environment, how the step runs there), stdout if
 * kept, and digests of the rest of what reaches the host. The environment's
 * long values are digests too unless a delete script runs with them
 * (environmentDigests). The script texts' references, the uploads and the
 * secret environment are not copied a second time: per step per host that
 * copy was most of a fleet's state (issue 15).
 * The secret environment's digest stays secret (HostCommand's
 * additionalSecretOutputs), as a digest of a short secret could be guessed.
 */
export interface HostCommandOutputs extends Omit<StepInputs, "secretEnvironment" | "uploads"> {
  delete?: ScriptInput;
  observe?: ScriptInput;
  triggers?: unknown[];
  captureStdout?: boolean;
  stdout?: string;
  /** sha256 of what reaches the host but environment and secrets (reachDigest). */
  reach: string;
  /** sha256 of the secret environment; secret in state. */
  secretEnvironment?: string;
}

/** JSON with object keys sorted, so a digest does not depend on the order the wire gave. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

/**
 * What of a step reaches the host, but its environment and secrets: the host
 * it is (address, port, user, pinned keys), the scripts' digests, the
 * uploads' remote paths, modes and digests, the triggers and whether stdout
 * is kept.
 */
export function reachDigest(o: HostCommandState): string {
  const c = o.connection;
  return sha256Text(
    canonical({
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
      create: scriptDigest(o.create),
      update: scriptDigest(o.update),
      delete: scriptDigest(o.delete),
      uploads: (o.uploads ?? []).map((u) => ({
        remotePath: u.remotePath,
        sha256: u.sha256.toLowerCase(),
        mode: u.mode ?? "0644",
      })),
      triggers: o.triggers ?? [],
      captureStdout: !!o.captureStdout,
    }),
  );
}

const secretDigest = (s: Record<string, string> | undefined) => sha256Text(canonical(s ?? {}));

/** The form `sha256:<hex>` has: a value no longer than it is kept as it is. */
const DIGEST_FORM_LENGTH = "sha256:".length + 64;

/**
 * A step's environment as its outputs keep it when no delete script needs
 * the values: each value longer than a digest as `sha256:<hex>` of its text,
 * the form observe.sh reports a content key in (observedEnvironment), so a
 * refresh of a host as declared still gives back exactly what is stored.
 * Rendered files (config.yaml, a unit) were most of a step's outputs, and the
 * inputs keep them anyway. Idempotent, so a diff compares old and new in this
 * form whatever form the old outputs have.
 */
export function environmentDigests(env: Record<string, string> | undefined): Record<string, string> | undefined {
  if (env === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, v.length > DIGEST_FORM_LENGTH ? `sha256:${sha256Text(v)}` : v]),
  );
}

/**
 * HostCommand's provider, behind the loader that lib/hostCommand.ts
 * serializes into state.
 *
 * - diff: only what reaches the host counts (reachDigest, the environment
 *   compared in its digest form, and the secret environment). Where the
 *   checkout lives (upload local paths), which deploy key opens the session,
 *   timeouts, the step's name and lock mode (how a step runs there, not
 *   what it does) and the texts of error messages do not, so a second
 *   operator, a CI runner or a rotated key sees no change. A script kept inline by an earlier release and the same
 *   text by reference are the same. Nor does the observe script. Steps
 *   stored by earlier releases, whose outputs were a copy of their inputs,
 *   diff the same way: their digests are computed from that copy.
 * - delete runs with the outputs: no uploads and no secrets (a step with a
 *   delete script has none, infra/hostStep.ts), so removing a host needs
 *   none of the artifacts on the machine that removes it.
 * - read (`pulumi refresh` only, never a plain `up`): a step with an observe
 *   script reports what its host has for its environment keys; they replace
 *   the stored ones, so the next diff sees the drift. Without one, the stored
 *   state stays as it is.
 */
export const provider = {
  async configure(config: { get(key: string): string | undefined }): Promise<void> {
    stackConfig = config;
  },
  async diff(olds: HostCommandOutputs | HostCommandState, news: HostCommandState) {
    const old = olds as Partial<HostCommandOutputs> & Partial<HostCommandState>;
    const oldReach = typeof old.reach === "string" ? old.reach : reachDigest(olds as HostCommandState);
    const oldSecret =
      typeof old.secretEnvironment === "string"
        ? old.secretEnvironment
        : secretDigest(old.secretEnvironment as Record<string, string> | undefined);
    const changes =
      oldReach !== reachDigest(news) ||
      canonical(environmentDigests(old.environment) ?? {}) !== canonical(environmentDigests(news.environment) ?? {}) ||
      oldSecret !== secretDigest(news.secretEnvironment);
    const replaces = canonical(old.triggers ?? []) !== canonical(news.triggers ?? []) ? ["triggers"] : [];
    return { changes, replaces, deleteBeforeReplace: true };
  },
  async create(inputs: HostCommandState) {
    const stdout = await run(inputs, inputs.create, "run");
    return { id: crypto.randomUUID(), outs: stepOutputs(inputs, stdout) };
  },
  async update(news: HostCommandState) {
    const stdout = await run(news, news.update ?? news.create, "run");
    return { outs: stepOutputs(news, stdout) };
  },
  async delete(props: HostCommandOutputs | HostCommandState) {
    if (props.delete === undefined) return;
    // Earlier releases' outputs still hold uploads and secrets: a delete sends neither.
    const { uploads: _u, secretEnvironment: _s, ...rest } = props as HostCommandState;
    await run(rest as HostCommandState, props.delete, "delete");
  },
  async read(id: string, props: HostCommandOutputs | HostCommandState) {
    if (props.observe === undefined) return { id, props };
    const step = props.step ?? "unnamed step";
    const observe = scriptText(props.observe, "observe", step);
    const environment = await observeStep({
      connection: props.connection,
      environment: props.environment,
      step,
      observe,
    });
    return { id, props: { ...props, environment } };
  },
};

function run(inputs: HostCommandState, script: ScriptInput, use: "run" | "delete"): Promise<string> {
  const text = scriptText(script, use, inputs.step ?? "unnamed step");
  return runStep(inputs, text);
}

export function stepOutputs(inputs: HostCommandState, stdout: string): HostCommandOutputs {
  const outs: HostCommandOutputs = {
    connection: inputs.connection,
    // A delete runs with the values themselves; a refresh needs only their digests.
    environment: inputs.delete === undefined ? environmentDigests(inputs.environment) : inputs.environment,
    timeoutSeconds: inputs.timeoutSeconds,
    step: inputs.step,
    lock: inputs.lock,
    delete: inputs.delete,
    observe: inputs.observe,
    triggers: inputs.triggers,
    captureStdout: inputs.captureStdout,
    reach: reachDigest(inputs),
    secretEnvironment: inputs.secretEnvironment === undefined ? undefined : secretDigest(inputs.secretEnvironment),
    stdout: inputs.captureStdout ? stdout : undefined,
  };
  // The wire drops undefined, but a caller (and a test) sees the outputs as they are stored.
  for (const k of Object.keys(outs) as (keyof HostCommandOutputs)[]) if (outs[k] === undefined) delete outs[k];
  return outs;
}

/**
 * `provider` in the shape of a dynamic provider (pulumi.dynamic.ResourceProvider):
 * what the module text each HostCommand step keeps as its provider
 * (lib/hostCommand.ts PROVIDER_MODULE) hands to the engine's provider process. `provider` keeps
 * its own shape: steps stored by the releases before this one hold a
 * serialized loader that calls it (their deletes and refreshes run that
 * loader, not this one).
 */
export const dynamicProvider = {
  configure: async (req: { config: { get(key: string): string | undefined } }) => provider.configure(req.config),
  diff: async (_id: string, olds: HostCommandOutputs | HostCommandState, news: HostCommandState) =>
    provider.diff(olds, news),
  create: async (inputs: HostCommandState) => provider.create(inputs),
  update: async (_id: string, _olds: HostCommandState, news: HostCommandState) => provider.update(news),
  delete: async (_id: string, props: HostCommandOutputs | HostCommandState) => provider.delete(props),
  read: async (id: string, props: HostCommandOutputs | HostCommandState) => provider.read(id, props),
};
