import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { ScriptInput } from "../lib/hostCommand";

/** Project-relative path of each script text hostScript() has returned, by text. */
const files = new Map<string, string>();

/**
 * The text of a host script in infra/scripts/. Scripts travel to hosts as
 * text (sent on ssh's stdin), so the file on disk is the one shellcheck
 * checks and the one the host runs. Steps are declared with texts, so tests
 * and both transports see what runs; scriptInput() turns one back into a
 * reference for the built-in transport's state.
 */
export function hostScript(name: string): string {
  const file = path.join(__dirname, "scripts", `${name}.sh`);
  const text = fs.readFileSync(file, "utf8");
  files.set(text, path.relative(path.join(__dirname, ".."), file).split(path.sep).join("/"));
  return text;
}

/**
 * A step's script as the built-in transport keeps it in state: a reference
 * (file, digest, and the lines put before the file, if any) when the text is
 * a hostScript(), or ends in one; the text itself otherwise (a one-line
 * command). Kept by reference, a K3s host's steps hold a few hundred bytes of
 * script in state instead of 40 KB, twice (issue 15).
 */
export function scriptInput(text: string): ScriptInput {
  const sha256 = crypto.createHash("sha256").update(text, "utf8").digest("hex");
  const whole = files.get(text);
  if (whole !== undefined) return { file: whole, sha256 };
  for (const [body, file] of files) {
    if (text.length > body.length && text.endsWith(`\n${body}`)) {
      return { file, prelude: text.slice(0, text.length - body.length - 1), sha256 };
    }
  }
  return text;
}
