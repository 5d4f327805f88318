/**
 * stack-secret.ts has <stack file> <key path>
 *   exit 0 when the file holds an encryption salt and a secure value there.
 * stack-secret.ts copy <stack file> <sealed copy> <key path>
 *   copy the salt and the secure value from a copy that `pulumi config set
 *   --secret` rewrote, keeping the original's comments and layout.
 *
 * <key path> is Pulumi's --path form: edgefleet:ssh.privateKey.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { formatYaml } from "./format";
import { copySecret, hasSecret } from "./stackEdit";

function keyPath(p: string): string[] {
  const colon = p.indexOf(":");
  const [first, ...rest] = p.slice(colon + 1).split(".");
  return [`${p.slice(0, colon + 1)}${first}`, ...rest];
}

async function main(argv: string[]): Promise<number> {
  const [cmd, file, a, b] = argv;
  if (cmd === "has" && file && a) return hasSecret(readFileSync(file, "utf8"), keyPath(a)) ? 0 : 1;
  if (cmd === "copy" && file && a && b) {
    writeFileSync(file, await formatYaml(copySecret(readFileSync(file, "utf8"), readFileSync(a, "utf8"), keyPath(b))));
    return 0;
  }
  throw new Error("usage: stack-secret.ts has <stack file> <key path> | copy <stack file> <sealed copy> <key path>");
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`stack-secret: ${(e as Error).message}`);
    process.exit(2);
  },
);
