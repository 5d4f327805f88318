/**
 * Removing servers: the rule of how many one change may take out
 * (config/k3sDatastore.ts, k3sServerRemoval), ServerSetGuard's check against
 * the servers recorded in state (infra/serverSetGuard.ts), and how
 * K3sCluster wires both: the guard before every host step, and each server's
 * leave step (scripts/leave.sh) between its drain and its uninstall. The
 * scripts themselves run in test/shell/leave.test.sh; the guard through the
 * real engine in test/integration/serverRemoval.test.ts.
 */
import * as crypto from "crypto";
import { k3sServerRemoval } from "../../../config/k3sDatastore";
import { K3sCluster } from "../../../infra/k3sCluster";
import { serverSetGuardProvider, type ServerSetGuardArgs } from "../../../infra/serverSetGuard";
import { hostScript } from "../../../infra/scripts";
import { clusterArgs, clusterHost, installClusterMocks } from "./clusterMocks";

const { registered, held, settle } = installClusterMocks((name) => name === "held-servers");

const servers = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `s${from + i}`);

describe("k3sServerRemoval: how many servers one change may take out", () => {
  it.each([
    ["nothing removed", servers(3), servers(3)],
    ["a server added", servers(3), servers(5)],
    ["one of three replaced", servers(3), ["s1", "s2", "s4"]],
    ["one of three (the count rule refuses 2 on its own)", servers(3), ["s1", "s2"]],
    ["two of five (5 -> 3)", servers(5), servers(3)],
    ["three of seven (7 -> 5 plus a replacement)", servers(7), ["s1", "s2", "s3", "s4", "s8"]],
    ["the first server, of three", servers(3), ["s2", "s3"]],
  ])("allows %s", (_what, before, after) => {
    expect(k3sServerRemoval({ before, after }).verdict).toBe("allowed");
  });

  it.each([
    ["two of three (3 -> 1)", servers(3), ["s1"], ["s2", "s3"]],
    ["three of five (5 -> 2)", servers(5), ["s1", "s2"], ["s3", "s4", "s5"]],
    ["four of seven", servers(7), servers(3), ["s4", "s5", "s6", "s7"]],
  ])("refuses %s: a majority, removed >= ceil(before/2)", (_what, before, after, removed) => {
    const v = k3sServerRemoval({ before, after, acknowledgePath: "edgefleet:sites[0].acknowledgeServerRemoval" });
    expect(v.verdict).toBe("refused");
    expect(v.removed).toEqual(removed);
    if (v.verdict !== "refused") return;
    expect(v.problem).toContain(
      `removes servers ${removed.join(", ")}, ${removed.length} of the site's ${before.length}: a majority`,
    );
    expect(v.problem).toContain("embedded etcd");
    expect(v.problem).toContain("quorum");
    expect(v.fix).toContain(
      `take out at most ${Math.ceil(before.length / 2) - 1} of the ${before.length} servers per \`pulumi up\``,
    );
    expect(v.fix).toContain(`list ${removed.join(", ")} in edgefleet:sites[0].acknowledgeServerRemoval and run again`);
  });

  it("refuses the last server, and a change that replaces every server", () => {
    const only = k3sServerRemoval({ before: ["s1"], after: ["s2"] });
    expect(only).toMatchObject({ verdict: "refused", removed: ["s1"] });
    if (only.verdict === "refused") {
      expect(only.problem).toBe(
        "this change removes server s1, the site's only server: the cluster's datastore (every Kubernetes object of the site) would go with it, and the servers left would start an empty cluster",
      );
      expect(only.fix).toMatch(/^keep at least one of the site's servers in the inventory; to rebuild/);
    }
    const all = k3sServerRemoval({ before: servers(3), after: servers(3, 4) });
    expect(all).toMatchObject({ verdict: "refused", removed: servers(3) });
    if (all.verdict === "refused") expect(all.problem).toContain("all 3 of the site's servers");
  });

  it("lets acknowledged removals through, and names only the unacknowledged ones", () => {
    expect(k3sServerRemoval({ before: servers(3), after: ["s1"], acknowledged: ["s2", "s3"] }).verdict).toBe("allowed");
    expect(k3sServerRemoval({ before: ["s1"], after: [], acknowledged: ["s1"] }).verdict).toBe("allowed");
    const partly = k3sServerRemoval({ before: servers(3), after: ["s1"], acknowledged: ["s2"] });
    expect(partly.verdict).toBe("refused");
    if (partly.verdict === "refused") expect(partly.fix).toContain("list s3 in acknowledgeServerRemoval");
  });

  it("refuses removing a server without a kubelet from an etcd site: no Node, so K3s keeps its member", () => {
    const v = k3sServerRemoval({ before: servers(3), after: ["s1", "s2"], controlPlaneOnly: true });
    expect(v.verdict).toBe("refused");
    if (v.verdict === "refused") {
      expect(v.problem).toContain("no Node object");
      expect(v.fix).toContain("etcdctl member remove");
    }
    expect(
      k3sServerRemoval({ before: servers(3), after: ["s1", "s2"], controlPlaneOnly: true, acknowledged: ["s3"] })
        .verdict,
    ).toBe("allowed");
    // Nothing removed: nothing to say.
    expect(k3sServerRemoval({ before: servers(3), after: servers(3), controlPlaneOnly: true }).verdict).toBe("allowed");
  });
});

describe("ServerSetGuard's check against the servers recorded in state", () => {
  const args = (names: string[], extra: Partial<ServerSetGuardArgs> = {}): ServerSetGuardArgs => ({
    where: "edge-west/hub-a",
    servers: names,
    acknowledged: [],
    controlPlaneOnly: false,
    acknowledgePath: "edgefleet:sites[0].acknowledgeServerRemoval",
    ...extra,
  });
  const check = (olds: ServerSetGuardArgs | undefined, news: ServerSetGuardArgs) =>
    serverSetGuardProvider.check!(olds as ServerSetGuardArgs, news);

  it("refuses a majority removal with the stack and site, the servers, why and the fix", async () => {
    const r = await check(args(servers(3)), args(["s1"]));
    expect(r.failures).toEqual([
      {
        property: "servers",
        reason:
          "edge-west/hub-a: this change removes servers s2, s3, 2 of the site's 3: a majority. The servers run embedded etcd, " +
          "which commits a change of its members only with a majority of them, and losing a majority at once loses quorum; " +
          "nothing was changed. Fix: take out at most 1 of the 3 servers per `pulumi up`, keeping an odd count (replace a " +
          "server by removing it and adding its successor in the same change); to shrink on purpose past that (3 -> 1 has " +
          "no odd count between), list s2, s3 in edgefleet:sites[0].acknowledgeServerRemoval and run again.",
      },
    ]);
  });

  it("passes 5 -> 3, a replacement, and a first deployment (no state to judge against)", async () => {
    expect((await check(args(servers(5)), args(servers(3)))).failures).toEqual([]);
    expect((await check(args(servers(3)), args(["s1", "s2", "s4"]))).failures).toEqual([]);
    expect((await check(undefined, args(["s1"]))).failures).toEqual([]);
    expect((await check({} as ServerSetGuardArgs, args(["s1"]))).failures).toEqual([]);
  });

  it("passes an acknowledged shrink, judged by the new acknowledgement", async () => {
    expect((await check(args(servers(3)), args(["s1"], { acknowledged: ["s2", "s3"] }))).failures).toEqual([]);
  });

  it("judges by what the removed servers were (no kubelet), as recorded", async () => {
    const r = await check(args(servers(3), { controlPlaneOnly: true }), args(["s1", "s2"]));
    expect(r.failures?.[0].reason).toMatch(
      /^edge-west\/hub-a: this change removes server s3, whose servers run no kubelet/,
    );
  });

  it("records a changed server set or acknowledgement; a moved key path alone is no change", async () => {
    const diff = (o: ServerSetGuardArgs, n: ServerSetGuardArgs) => serverSetGuardProvider.diff!("id", o, n);
    expect((await diff(args(servers(3)), args(servers(3)))).changes).toBe(false);
    expect((await diff(args(servers(3)), args(servers(5)))).changes).toBe(true);
    expect((await diff(args(servers(3)), args(servers(3), { acknowledged: ["s9"] }))).changes).toBe(true);
    expect(
      (
        await diff(
          args(servers(3)),
          args(servers(3), { acknowledgePath: "edgefleet:sites[4].acknowledgeServerRemoval" }),
        )
      ).changes,
    ).toBe(false);
  });
});

jest.setTimeout(60_000);

const steps = (prefix: string) => registered.filter((r) => r.name.startsWith(prefix));
const step = (name: string) => registered.find((r) => r.name === name)!;

describe("K3sCluster: the guard first, and a leave step on each server", () => {
  it("registers no host step until the server-set guard is through", async () => {
    new K3sCluster(
      "held",
      clusterArgs("held", [clusterHost("s1", 0, "server"), clusterHost("a1", 1, "agent")], {
        acknowledgedServerRemovals: ["old-s2"],
        acknowledgeServerRemovalPath: "edgefleet:sites[3].acknowledgeServerRemoval",
      }),
    );
    await settle();
    expect(step("held-servers").inputs).toMatchObject({
      where: "unit/held",
      servers: ["s1"],
      acknowledged: ["old-s2"],
      controlPlaneOnly: false,
      acknowledgePath: "edgefleet:sites[3].acknowledgeServerRemoval",
    });
    expect(steps("held-").filter((r) => r.type.includes("HostCommand"))).toEqual([]);
    held.get("held-servers")!.finish();
    await settle();
    expect(steps("held-s1-").map((r) => r.name)).toContain("held-s1-preflight");
  });

  it("gives each server a leave step with its peers, between its service and its drain; agents none", async () => {
    new K3sCluster(
      "rm",
      clusterArgs("rm", [
        clusterHost("s1", 0, "server"),
        clusterHost("s2", 1, "server"),
        clusterHost("s3", 2, "server"),
        clusterHost("a1", 3, "agent"),
      ]),
    );
    await settle();
    expect(
      steps("rm-")
        .filter((r) => r.name.endsWith("-leave"))
        .map((r) => r.name),
    ).toEqual(["rm-s1-leave", "rm-s2-leave", "rm-s3-leave"]);
    const leave = step("rm-s2-leave").inputs;
    // The server itself (the secret private key makes the whole connection a secret), not the controller.
    expect((leave.connection.value ?? leave.connection).host).toBe("192.0.2.11");
    expect(leave.environment).toEqual({
      HOST_NAME: "s2",
      NODE_NAME: "s2",
      PEER_URLS: "https://192.0.2.10:6443 https://192.0.2.12:6443",
      TIMEOUT_SECONDS: "300",
    });
    // The built-in transport keeps scripts by reference: file, the lines before it, the whole text's digest.
    const digest = (t: string) => crypto.createHash("sha256").update(t).digest("hex");
    expect(leave.create).toEqual({
      file: "infra/scripts/leave.sh",
      prelude: "export LEAVE_ACTION=arm",
      sha256: digest(`export LEAVE_ACTION=arm\n${hostScript("leave")}`),
    });
    expect(leave.delete).toEqual({ file: "infra/scripts/leave.sh", sha256: digest(hostScript("leave")) });
    expect(step("rm-s1-leave").inputs.environment.PEER_URLS).toBe("https://192.0.2.11:6443 https://192.0.2.12:6443");

    // Registered (so deleted in reverse) in the order service, leave, ready: the drain
    // goes first, then the leave, then the uninstall.
    const at = (n: string) => registered.findIndex((r) => r.name === n);
    expect(at("rm-s2-service")).toBeLessThan(at("rm-s2-leave"));
    expect(at("rm-s2-leave")).toBeLessThan(at("rm-s2-ready"));
    // A server's drain keeps its Node for the leave step; an agent's deletes it.
    expect(step("rm-s2-ready").inputs.environment.DELETE_NODE).toBe("0");
    expect(step("rm-a1-ready").inputs.environment).not.toHaveProperty("DELETE_NODE");
  });

  it("leaves a control-plane-only server's leave step last (no readiness step)", async () => {
    new K3sCluster(
      "cp",
      clusterArgs("cp", [clusterHost("s1", 0, "server"), clusterHost("a1", 1, "agent")], {
        disableAgentOnServers: true,
      }),
    );
    await settle();
    expect(step("cp-servers").inputs.controlPlaneOnly).toBe(true);
    expect(step("cp-s1-leave").inputs.environment.PEER_URLS).toBe("");
    expect(registered.some((r) => r.name === "cp-s1-ready")).toBe(false);
  });
});
