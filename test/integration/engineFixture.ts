/**
 * The harness of the engine tests that run a small fixture program (no lab):
 * stateGuards, serverRemoval, drift. A file backend in a tmp dir, and a second
 * home for the project there (`pulumi stack init` writes the stack's config
 * file, with its passphrase salt, next to Pulumi.yaml and takes no
 * --config-file: commands that do not run the program run in `project`), so
 * nothing is written into the checkout.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface EngineFixture {
  stack: string;
  tmp: string;
  backend: string;
  /** The project's second home, outside the checkout. */
  project: string;
  /** The stack's config file, in `project`. */
  configFile: string;
  env: NodeJS.ProcessEnv;
  /** The pulumi CLI on this stack, in `cwd`. */
  pulumi(cwd: string, args: string[], input?: string): { status: number | null; out: string; stdout: string };
}

export function engineFixture(stack: string, passphrase: string): EngineFixture {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `edgefleet-${stack}-`));
  const backend = path.join(tmp, "state");
  const project = path.join(tmp, "project");
  const env = {
    ...process.env,
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    // The language host's pipe folders (pulumi-node-pipes*), which it does not
    // always remove, go with the rest.
    TMPDIR: tmp,
  };
  return {
    stack,
    tmp,
    backend,
    project,
    configFile: path.join(project, `Pulumi.${stack}.yaml`),
    env,
    pulumi(cwd, args, input) {
      const r = spawnSync("pulumi", [...args, "--stack", stack, "--non-interactive", "--color", "never"], {
        cwd,
        env,
        input,
        encoding: "utf8",
        maxBuffer: 64 << 20,
      });
      if (r.error) throw r.error;
      return { status: r.status, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout };
    },
  };
}

/** The result, or its output as the error when the command failed. */
export function must<R extends { status: number | null; out: string }>(r: R): R {
  if (r.status !== 0) throw new Error(r.out);
  return r;
}
