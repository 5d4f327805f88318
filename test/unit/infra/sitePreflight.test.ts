/**
 * A site installs only when every host passed preflight: K3sCluster's
 * registrations under Pulumi mocks, with each preflight held open by the
 * mock until the test lets it finish. What is checked is when the SDK
 * registers each step, i.e. when the engine would run it. A failed preflight
 * holds its dependents exactly like an unfinished one (the engine never runs
 * them); the failure itself, through the engine and real hosts, is
 * test/integration/hostFaults.test.ts. (A failure is not simulated here: the
 * SDK's resulting unhandled rejections reach Jest's own process handlers.)
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostAccess } from "../../../infra/connection";
import { K3sCluster, type ClusterHost } from "../../../infra/k3sCluster";

interface Held {
  finish: () => void;
}

const registered: string[] = [];
const held = new Map<string, Held>();

pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push(args.name);
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.name.endsWith("-token")) state.result = "MockToken0123456789abcdefghijklmnopqrstuvwxyzAB";
      if (args.name.endsWith("-kubeconfig")) state.stdout = "clusters: []\n";
      const done = { id: `${args.name}-id`, state };
      if (!args.name.endsWith("-preflight")) return done;
      return new Promise((resolve) => held.set(args.name, { finish: () => resolve(done) }));
    },
    call: (args) => args.inputs,
  },
  "edgefleet",
  "unit",
  false,
);

/** Lets queued registrations run until nothing new arrives. */
async function settle(): Promise<void> {
  let last = -1;
  while (registered.length !== last) {
    last = registered.length;
    await new Promise((r) => setTimeout(r, 300));
  }
}

const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBb4VXpFQV/j1NzNgrKk8GxNz/LyOeFqIwJjPVBkOSV";
function host(name: string, i: number, role: "server" | "agent"): ClusterHost {
  const access: HostAccess = {
    name,
    address: `192.0.2.${10 + i}`,
    port: 22,
    user: "root",
    hostKey: key,
    hostKeyConfigPath: `edgefleet:sites[0].hosts[${i}].hostKey`,
  };
  return { access, role, size: "2c4g" };
}

function threeHostSite(): void {
  const name = "site";
  const artifact = { localPath: "/nonexistent/k3s", sha256: "0".repeat(64) };
  new K3sCluster(name, {
    where: `unit/${name}`,
    site: name,
    profile: "edgeGeneral",
    hosts: [host("s1", 0, "server"), host("a1", 1, "agent"), host("a2", 2, "agent")],
    privateKey: pulumi.secret("not-a-key"),
    version: "v1.34.2+k3s1",
    artifacts: { k3s: artifact, images: { ...artifact, fileName: "images.tar.zst" }, wasmShim: artifact },
    wasm: true,
    serviceMode: "systemd",
    agentBatchSize: 1,
  });
}

const steps = (suffix: string): string[] => registered.filter((n) => n.endsWith(suffix)).sort();

jest.setTimeout(60_000);

describe("K3sCluster preflight gate", () => {
  it("runs every host's preflight at once and installs nothing until the last one passed", async () => {
    threeHostSite();
    await settle();
    // All three are in flight together: none waits for another host's install.
    expect(steps("-preflight")).toEqual(["site-a1-preflight", "site-a2-preflight", "site-s1-preflight"]);
    expect(steps("-install")).toEqual([]);

    held.get("site-s1-preflight")!.finish();
    held.get("site-a1-preflight")!.finish();
    await settle();
    // Two of three passed, the server among them: still nothing installed.
    expect(steps("-install")).toEqual([]);

    held.get("site-a2-preflight")!.finish();
    await settle();
    // Then the plan's order: the server, and the agents only after its node step.
    expect(steps("-install")).toEqual(["site-a1-install", "site-a2-install", "site-s1-install"]);
    const at = (n: string) => registered.indexOf(n);
    expect(at("site-s1-install")).toBeLessThan(at("site-s1-ready"));
    expect(at("site-s1-ready")).toBeLessThan(at("site-a1-install"));
    expect(at("site-a1-ready")).toBeLessThan(at("site-a2-install"));
  });
});
