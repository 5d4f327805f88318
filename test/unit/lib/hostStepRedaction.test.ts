/**
 * A step's secret values never leave the host in its output (issue 14 item 8):
 * the payload both transports send (stepPayload) filters the step's stdout
 * and stderr on the host. @pulumi/command copies a failing step's whole
 * output into its error text, so this is the only redaction that transport
 * gets. Run here through the real wrapper (lib/hostStep.sh) under a local
 * bash, as sshd would start it.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stepPayload } from "../../../lib/hostCommandRun";

const TOKEN = "K10aa11bb22cc33::server:0123456789abcdef";
// A multi-line secret made at run time (no key text in the repository), redacted line by line.
const KEY = crypto.generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString().trim();

function runOnHost(script: string, secrets: Record<string, string>) {
  const lockDir = fs.mkdtempSync(path.join(os.tmpdir(), "ef-redact-"));
  try {
    const r = spawnSync("bash", ["-s"], {
      input: stepPayload(script, { PLAIN: "visible-value" }, secrets, { step: "t/redact", timeoutSeconds: 30 }),
      env: { ...process.env, EDGEFLEET_LOCK_DIR: lockDir },
      encoding: "utf8",
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

describe("secret values in a step's output", () => {
  it("are replaced on the host, whole and line by line, on stdout and stderr, and the step's status is kept", () => {
    const r = runOnHost(
      'echo "token=$TOKEN plain=$PLAIN"; printf "%s\\n" "$KEY" >&2; echo "second line: $(printf "%s" "$KEY" | sed -n 2p)" >&2; exit 3',
      { TOKEN, KEY },
    );
    expect(r.status).toBe(3);
    expect(r.stdout).toBe("token=[secret] plain=visible-value\n");
    expect(r.stderr).toContain("second line: [secret]");
    for (const s of [TOKEN, ...KEY.split("\n").filter((l) => l.length >= 4)]) {
      expect(r.stdout + r.stderr).not.toContain(s);
    }
  });

  it("leaves a step without secrets untouched, a last line without newline included", () => {
    const r = runOnHost('printf "a\\nlast"', {});
    expect(r).toEqual({ status: 0, stdout: "a\nlast", stderr: "" });
    const s = runOnHost('printf "a %s\\nlast" "$T"', { T: "s3cr3t-value" });
    expect(s).toEqual({ status: 0, stdout: "a [secret]\nlast", stderr: "" });
  });
});
