/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The Node document infra/scripts/kwok/up.sh registers for a simulated node,
 * read from the script itself (node_doc's heredoc, size_of's table) with its
 * variables filled in as up.sh would: what a test holds the edge-node rule
 * and the capacity model to.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

export const UP_SH = fs.readFileSync(path.join(__dirname, "../../../infra/scripts/kwok/up.sh"), "utf8");

/** size_of's capacity and allocatable for a class: [cpu, memory, allocatable cpu, allocatable memory]. */
export function kwokSize(sizeClass: string): string[] {
  const m = new RegExp(`${sizeClass}\\) echo "([^"]+)"`).exec(UP_SH);
  if (!m) throw new Error(`up.sh's size_of has no ${sizeClass}`);
  return m[1].split(" ");
}

export function kwokNodeDoc(vars: { name: string; site: string; profile: string; class: string; wasm?: string }): any {
  const m = /node_doc\(\) \{[\s\S]*?cat <<EOF\n([\s\S]*?)\nEOF/.exec(UP_SH);
  if (!m) throw new Error("up.sh has no node_doc heredoc");
  const [cpu, mem, acpu, amem] = kwokSize(vars.class);
  const all: Record<string, string> = { wasm: "true", ...vars, cpu, mem, acpu, amem };
  const text = m[1]
    .replace(/\$\(\[\[[^\n]*\)/g, "  taints: []")
    .replace(/\$\{hash_of\[\$class\]\}/g, "h")
    .replace(/\$(\w+)/g, (_, v: string) => {
      if (!(v in all)) throw new Error(`up.sh node_doc uses $${v}, which is not filled in`);
      return all[v];
    });
  return parse(text);
}
