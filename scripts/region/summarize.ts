/**
 * summarize.ts <stack> [events file]: reads the engine's JSON events of a
 * `pulumi up --json` (from the file, else stdin, as they come), prints each
 * error as it arrives and, at the end, the per-site summary
 * (regionSummary.ts). Exits 1 when a site did not converge.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { converged, renderSummary, summarize, type SummaryEvent } from "./regionSummary";

const [stack, file] = process.argv.slice(2);
if (!stack) {
  console.error("usage: summarize.ts <stack> [events file]");
  process.exit(2);
}
const events: SummaryEvent[] = [];
const lines = createInterface({ input: file ? createReadStream(file) : process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  let e: SummaryEvent;
  try {
    e = JSON.parse(line);
  } catch {
    return; // not an event: the CLI's own line
  }
  events.push(e);
  const d = e.diagnosticEvent;
  if (d?.severity === "error") console.error(`error: ${d.message.trim()}`);
});
lines.on("close", () => {
  const r = summarize(events);
  console.log(renderSummary(stack, r).join("\n"));
  process.exit(r.sites.every(converged) && r.other.length === 0 && r.finished ? 0 : 1);
});
