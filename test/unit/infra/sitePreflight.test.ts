/**
 * A site is sent its artifacts and installs only when every host passed preflight: K3sCluster's
 * registrations under Pulumi mocks, with each preflight held open by the
 * mock until the test lets it finish. What is checked is when the SDK
 * registers each step, i.e. when the engine would run it. A failed preflight
 * holds its dependents exactly like an unfinished one (the engine never runs
 * them); the failure itself, through the engine and real hosts, is
 * test/integration/hostFaults.test.ts. (A failure is not simulated here: the
 * SDK's resulting unhandled rejections reach Jest's own process handlers.)
 */
import { K3sCluster } from "../../../infra/k3sCluster";
import { clusterArgs, clusterHost, installClusterMocks } from "./clusterMocks";

const { registered: all, held, settle } = installClusterMocks((name) => name.endsWith("-preflight"));
const registered = { indexOf: (n: string) => all.findIndex((r) => r.name === n) };

function threeHostSite(): void {
  new K3sCluster(
    "site",
    clusterArgs("site", [clusterHost("s1", 0, "server"), clusterHost("a1", 1, "agent"), clusterHost("a2", 2, "agent")]),
  );
}

const steps = (suffix: string): string[] =>
  all
    .map((r) => r.name)
    .filter((n) => n.endsWith(suffix))
    .sort();

jest.setTimeout(60_000);

describe("K3sCluster preflight gate", () => {
  it("runs every host's preflight at once and installs nothing until the last one passed", async () => {
    threeHostSite();
    await settle();
    // All three are in flight together: none waits for another host's install.
    expect(steps("-preflight")).toEqual(["site-a1-preflight", "site-a2-preflight", "site-s1-preflight"]);
    expect(steps("-stage")).toEqual([]);
    expect(steps("-install")).toEqual([]);

    held.get("site-s1-preflight")!.finish();
    held.get("site-a1-preflight")!.finish();
    await settle();
    // Two of three passed, the server among them: still nothing sent, nothing installed.
    expect(steps("-stage")).toEqual([]);
    expect(steps("-install")).toEqual([]);

    held.get("site-a2-preflight")!.finish();
    await settle();
    // Then every host's artifacts at once, and the installs in the plan's
    // order: the server, and the agents only after its node step.
    expect(steps("-stage")).toEqual(["site-a1-stage", "site-a2-stage", "site-s1-stage"]);
    expect(steps("-install")).toEqual(["site-a1-install", "site-a2-install", "site-s1-install"]);
    const at = (n: string) => registered.indexOf(n);
    for (const h of ["s1", "a1", "a2"]) expect(at(`site-${h}-stage`)).toBeLessThan(at(`site-${h}-install`));
    expect(at("site-a2-stage")).toBeLessThan(at("site-s1-install"));
    expect(at("site-s1-install")).toBeLessThan(at("site-s1-ready"));
    expect(at("site-s1-ready")).toBeLessThan(at("site-a1-install"));
    expect(at("site-a1-ready")).toBeLessThan(at("site-a2-install"));
  });
});
