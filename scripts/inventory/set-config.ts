/**
 * set-config.ts <stack file> <out file> <key> <value>: writes to <out file>
 * the stack file with config[<key>] set to the string <value>, keeping what
 * the file's author wrote (stackEdit.ts setConfigValue). <out file> may be
 * the stack file itself.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { setConfigValue } from "./stackEdit";

const [file, out, key, value] = process.argv.slice(2);
if (!file || !out || !key || value === undefined) {
  console.error("usage: set-config.ts <stack file> <out file> <key> <value>");
  process.exit(2);
}
writeFileSync(out, setConfigValue(readFileSync(file, "utf8"), [key], value));
