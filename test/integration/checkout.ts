import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/**
 * Copies the checkout at `repo` to `dest` as a clone of it would be: the
 * tracked files and the new ones git does not ignore, as they are in the
 * work tree (so uncommitted work is tested too), nothing else.
 */
export function copyCheckout(repo: string, dest: string): void {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repo })
    .toString()
    .split("\0")
    .filter((f) => f && fs.existsSync(path.join(repo, f)));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    fs.copyFileSync(path.join(repo, f), path.join(dest, f));
  }
}
