/**
 * Splits a region's stack into several stacks of whole sites, each under a
 * host budget, when one stack would pass the engine's config ceiling
 * (config/configSize.ts). Every piece keeps the original's shared settings,
 * comments and sealed secrets (same encryption salt), so each is a working
 * stack on its own; sites keep their order, and no site is ever cut in two
 * (a site is one cluster).
 */
import { isSeq, parseDocument } from "yaml";
import { checkConfigSize } from "../../config/configSize";
import { parseStackFile } from "../../config/stackFile";

export interface StackPiece {
  /** `<stack>-a`, `<stack>-b`, ... */
  stack: string;
  text: string;
  sites: string[];
  hosts: number;
}

export function splitStack(stack: string, text: string, maxHosts: number): StackPiece[] {
  if (!Number.isInteger(maxHosts) || maxHosts < 1) throw new Error(`split: --max-hosts must be a positive integer`);
  const doc = parseDocument(text);
  const sites = doc.getIn(["config", "edgefleet:sites"]);
  if (!isSeq(sites)) throw new Error(`split: stack ${stack} has no edgefleet:sites list`);
  const all = sites.toJSON() as Array<{ name: string; hosts?: unknown[] }>;

  const sizes = all.map((site) => {
    const n = site.hosts?.length ?? 0;
    if (n > maxHosts)
      throw new Error(
        `split: site ${site.name} of stack ${stack} has ${n} hosts, more than --max-hosts ${maxHosts}; a site is one cluster and is never split: raise --max-hosts`,
      );
    return n;
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  // As few pieces as the budget allows, filled evenly rather than leaving a small remainder.
  const pieces = Math.max(1, Math.ceil(total / maxHosts));
  const groups = fill(sizes, maxHosts, total / pieces, pieces) ?? fill(sizes, maxHosts, maxHosts, Infinity)!;
  if (groups.length > 26) throw new Error(`split: ${groups.length} pieces; raise --max-hosts`);

  return groups.map((idx, g) => {
    const piece = parseDocument(text);
    const seq = piece.getIn(["config", "edgefleet:sites"]) as { items: unknown[] };
    seq.items = idx.map((i) => seq.items[i]);
    const name = `${stack}-${String.fromCharCode(97 + g)}`;
    const out = piece.toString({ lineWidth: 0 });
    const size = checkConfigSize(name, parseStackFile(out).rawConfig);
    if (size?.level === "error") throw new Error(`split: ${size.message}`);
    return {
      stack: name,
      text: out,
      sites: idx.map((i) => all[i].name),
      hosts: idx.reduce((n, i) => n + (all[i].hosts?.length ?? 0), 0),
    };
  });
}

/** Sites in order into groups closed at `target` hosts (never above `max`); undefined if more than `limit` groups result. */
function fill(sizes: number[], max: number, target: number, limit: number): number[][] | undefined {
  const groups: number[][] = [];
  let current: number[] = [];
  let count = 0;
  sizes.forEach((n, i) => {
    if (count + n > max && current.length > 0) {
      groups.push(current);
      current = [];
      count = 0;
    }
    current.push(i);
    count += n;
    if (count >= target && groups.length < limit - 1) {
      groups.push(current);
      current = [];
      count = 0;
    }
  });
  if (current.length > 0) groups.push(current);
  return groups.length > limit ? undefined : groups;
}
