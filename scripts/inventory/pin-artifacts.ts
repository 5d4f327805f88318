/**
 * pin-artifacts.ts <stacks/Pulumi.<stack>.yaml> [artifacts dir]
 *
 * Writes the sha256 of the K3s binary, the images tarball and the WasmEdge
 * shim into edgefleet:k3s.artifacts.*.sha256, reading the files from the
 * given folder (default: the stack's artifacts.dir, relative to the current
 * directory). Run it whenever the artifacts folder changes; the install
 * verifies every file against these sums on the host.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatYaml } from "./format";
import { pinArtifacts, sha256Hex } from "./stackEdit";

async function main(argv: string[]): Promise<void> {
  const [stackFile, dirArg] = argv;
  if (!stackFile) throw new Error("usage: pin-artifacts.ts <stack file> [artifacts dir]");
  const text = readFileSync(stackFile, "utf8");
  const out = pinArtifacts(text, (dir, file) => {
    const path = join(dirArg ?? dir, file);
    const sum = sha256Hex(readFileSync(path));
    console.log(`${sum}  ${path}`);
    return sum;
  });
  writeFileSync(stackFile, await formatYaml(out));
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`pin-artifacts: ${(e as Error).message}`);
  process.exit(1);
});
