import * as fs from "fs";
import * as path from "path";

/**
 * The text of a host script in infra/scripts/. Scripts travel to hosts as
 * text (HostCommand sends them on ssh's stdin), so the file on disk is the one
 * shellcheck checks and the one the host runs.
 */
export function hostScript(name: string): string {
  return fs.readFileSync(path.join(__dirname, "scripts", `${name}.sh`), "utf8");
}
