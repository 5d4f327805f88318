import { converged, renderSummary, summarize, type SummaryEvent } from "../../../scripts/region/regionSummary";

const STACK = "urn:pulumi:cn-east::edgefleet::pulumi:pulumi:Stack::edgefleet-cn-east";
const urn = (type: string, name: string) => `urn:pulumi:cn-east::edgefleet::${type}::${name}`;

function step(
  op: string,
  u: string,
  type: string,
  parent: string,
  outcome: "done" | "failed" | "running",
  error?: string,
) {
  const metadata = {
    op,
    urn: u,
    type,
    new: { parent, custom: !type.startsWith("edgefleet:infra:") && !type.startsWith("edgefleet:components:") },
  };
  const events: SummaryEvent[] = [{ resourcePreEvent: { metadata } }];
  if (outcome === "done") events.push({ resOutputsEvent: { metadata } });
  if (outcome === "failed") events.push({ resOpFailedEvent: { metadata } });
  if (error) events.push({ diagnosticEvent: { urn: u, message: error, severity: "error" } });
  return events;
}

/** Two sites as program.ts declares them: cluster `<site>`, nodes `<site>-edge`, site layer `<site>`. */
function region(failB: boolean): SummaryEvent[] {
  const ev: SummaryEvent[] = [];
  for (const site of ["hub-a", "hub-a-2"]) {
    const cp = urn("edgefleet:infra:UpstreamControlPlane", site);
    const edge = urn("edgefleet:infra:SimulatedNodes", `${site}-edge`);
    const layer = urn("edgefleet:components:Site", site);
    ev.push(...step("create", cp, "edgefleet:infra:UpstreamControlPlane", STACK, "done"));
    const fails = failB && site === "hub-a-2";
    ev.push(
      ...step(
        "create",
        urn("edgefleet:infra:UpstreamControlPlane$edgefleet:index:HostCommand", `${site}-controlplane`),
        "edgefleet:index:HostCommand",
        cp,
        fails ? "failed" : "done",
        fails
          ? `site ${site} host s1 (root@10.0.0.9:22) is unreachable over SSH (ssh: connect to host 10.0.0.9 port 22: No route to host). Check its address.\nsecond line`
          : undefined,
      ),
    );
    if (fails) continue;
    ev.push(...step("create", edge, "edgefleet:infra:SimulatedNodes", STACK, "done"));
    ev.push(
      ...step(
        "create",
        urn("edgefleet:infra:SimulatedNodes$edgefleet:index:HostCommand", `${site}-edge-nodes`),
        "edgefleet:index:HostCommand",
        edge,
        "done",
      ),
    );
    ev.push(...step("create", layer, "edgefleet:components:Site", STACK, "done"));
    ev.push(
      ...step(
        "same",
        urn("edgefleet:components:Site$kubernetes:core/v1:Namespace", `${site}-ns`),
        "kubernetes:core/v1:Namespace",
        layer,
        "done",
      ),
    );
  }
  ev.push(
    ...step("create", urn("pulumi:providers:kubernetes", "default"), "pulumi:providers:kubernetes", STACK, "done"),
  );
  ev.push({ summaryEvent: { resourceChanges: {} } });
  return ev;
}

describe("region summary (scripts/region-up.sh)", () => {
  it("names each site converged, or its failed host and step; a site whose name extends another's is its own", () => {
    const r = summarize(region(true));
    expect(r.sites.map((s) => [s.site, converged(s)])).toEqual([
      ["hub-a", true],
      ["hub-a-2", false],
    ]);
    expect(r.sites[1].failed).toEqual([
      {
        resource: "hub-a-2-controlplane",
        host: "s1 (root@10.0.0.9:22)",
        message:
          "site hub-a-2 host s1 (root@10.0.0.9:22) is unreachable over SSH (ssh: connect to host 10.0.0.9 port 22: No route to host). Check its address.",
      },
    ]);
    const text = renderSummary("cn-east", r);
    expect(text[0]).toBe("region summary, stack cn-east: 1 of 2 sites converged; failed: hub-a-2");
    expect(text).toContain("  site hub-a: converged (5 created, 1 unchanged)");
    expect(text).toContain("  site hub-a-2: FAILED (1 created before it stopped)");
    expect(text).toContain(
      "    host s1 (root@10.0.0.9:22), step hub-a-2-controlplane: site hub-a-2 host s1 (root@10.0.0.9:22) is unreachable over SSH (ssh: connect to host 10.0.0.9 port 22: No route to host). Check its address.",
    );
  });

  it("a clean run: every site converged, nothing else said", () => {
    const text = renderSummary("cn-east", summarize(region(false)));
    expect(text).toEqual([
      "region summary, stack cn-east: 2 of 2 sites converged",
      "  site hub-a: converged (5 created, 1 unchanged)",
      "  site hub-a-2: converged (5 created, 1 unchanged)",
    ]);
  });

  it("a run cut off mid-step: the step is unfinished, the site not converged, and the summary says the run did not end", () => {
    const ev = region(false).filter((e) => !e.summaryEvent);
    const cp = urn("edgefleet:infra:UpstreamControlPlane", "hub-b");
    ev.push(...step("create", cp, "edgefleet:infra:UpstreamControlPlane", STACK, "done"));
    ev.push(
      ...step("create", urn("edgefleet:components:Site", "hub-b"), "edgefleet:components:Site", STACK, "running"),
    );
    ev.push(
      ...step(
        "create",
        urn("edgefleet:infra:UpstreamControlPlane$edgefleet:index:HostCommand", "hub-b-controlplane"),
        "edgefleet:index:HostCommand",
        cp,
        "running",
      ),
    );
    const r = summarize(ev);
    expect(r.finished).toBe(false);
    const b = r.sites.find((s) => s.site === "hub-b")!;
    expect([converged(b), b.unfinished]).toEqual([false, ["hub-b-controlplane"]]);
    expect(renderSummary("cn-east", r)).toContain(
      "  the engine did not report the end of the run: it was cut off (README: Recovery)",
    );
  });

  it("errors of the program itself are reported for the region, but not its echo of a failed step", () => {
    const ev = region(true);
    const program = "Running program '/src/index.ts' failed with an unhandled exception:";
    for (const message of [
      `${program}\nError: resource hub-a-2-controlplane [urn:...] failed: site hub-a-2 host s1 ...`,
      `${program}\nError: edgefleet:gatekeeper: missing manifest`,
    ]) {
      ev.push({ diagnosticEvent: { urn: STACK, message, severity: "error" } });
    }
    const r = summarize(ev);
    expect(r.other).toEqual(["Error: edgefleet:gatekeeper: missing manifest"]);
    expect(renderSummary("cn-east", r)).toContain("  region: Error: edgefleet:gatekeeper: missing manifest");
  });

  it("a component, which reports no outputs, is not an unfinished step of a run that ended", () => {
    const ev = region(false);
    ev.push(
      ...step(
        "create",
        urn("edgefleet:components:Site$edgefleet:components:Gatekeeper", "hub-a-gatekeeper"),
        "edgefleet:components:Gatekeeper",
        urn("edgefleet:components:Site", "hub-a"),
        "running",
      ),
    );
    expect(summarize(ev).sites.every(converged)).toBe(true);
  });
});
