/**
 * ServerSetGuard through the real engine, against the servers a real `up`
 * recorded (the unit tests call its provider directly): `pulumi preview`
 * refuses a change that removes a majority of the site's servers or its last
 * one, with the stack and site, the servers, why and the fix, and passes a
 * minority removal, a replacement and an acknowledged shrink; a refused `up`
 * runs no step that depends on the guard (as every host step of a site
 * does) and leaves the recorded servers as they were.
 *
 * The program is test/integration/fixtures/serverGuard (no host, no
 * network). The state is a file backend in a tmp dir; the stack's config
 * file lives there too (--config-file), so nothing is written into the
 * checkout.
 */
import * as fs from "fs";
import * as path from "path";
import { engineFixture, must } from "./engineFixture";

const fixture = path.join(__dirname, "fixtures", "serverGuard");
const { tmp, backend, project, configFile, pulumi } = engineFixture("edge-west", "edgefleet-server-guard-test");
const stepLog = path.join(tmp, "steps.log");
const TIMEOUT = 2 * 60 * 1000;

/** `pulumi up` or `pulumi preview` of the fixture with these servers declared. */
function run(command: "up" | "preview", servers: string[], acknowledged: string[] = []) {
  return pulumi(fixture, [
    command,
    "--config-file",
    configFile,
    "--config",
    `servers=${servers.join(",")}`,
    "--config",
    `acknowledged=${acknowledged.join(",")}`,
    "--config",
    `stepLog=${stepLog}`,
    "--suppress-progress",
    ...(command === "up" ? ["--yes"] : []),
  ]);
}

const recorded = (): string[] => JSON.parse(must(pulumi(project, ["stack", "output", "recorded", "--json"])).stdout);
const steps = (): string => (fs.existsSync(stepLog) ? fs.readFileSync(stepLog, "utf8") : "");
const three = ["a-s1", "a-s2", "a-s3"];

beforeAll(() => {
  fs.mkdirSync(backend);
  fs.mkdirSync(project);
  fs.copyFileSync(path.join(fixture, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
  must(pulumi(project, ["stack", "init", "--no-select"]));
  // A first deployment has no state to judge against: the guard records the servers.
  must(run("up", three));
}, TIMEOUT);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("ServerSetGuard against the servers in state", () => {
  it(
    "records the servers of the first up",
    () => {
      expect(recorded()).toEqual(three);
      expect(steps()).toBe("create a-s1,a-s2,a-s3\n");
    },
    TIMEOUT,
  );

  it(
    "refuses 3 -> 1 at preview, naming the stack and site, the servers, etcd quorum and the fix",
    () => {
      const r = run("preview", ["a-s1"]);
      expect(r.status).not.toBe(0);
      expect(r.out).toContain(
        "edge-west/site-a: this change removes servers a-s2, a-s3, 2 of the site's 3: a majority. The servers run embedded etcd",
      );
      expect(r.out).toContain("losing a majority at once loses quorum; nothing was changed.");
      expect(r.out).toContain("take out at most 1 of the 3 servers per `pulumi up`");
      expect(r.out).toContain("list a-s2, a-s3 in edgefleet:sites[0].acknowledgeServerRemoval and run again");
    },
    TIMEOUT,
  );

  it(
    "refuses removing every server (the cluster would go with them)",
    () => {
      const r = run("preview", ["b-s1", "b-s2", "b-s3"]);
      expect(r.status).not.toBe(0);
      expect(r.out).toContain(
        "edge-west/site-a: this change removes servers a-s1, a-s2, a-s3, all 3 of the site's servers",
      );
    },
    TIMEOUT,
  );

  it(
    "passes replacing one server, and an acknowledged shrink",
    () => {
      must(run("preview", ["a-s1", "a-s2", "a-s4"]));
      must(run("preview", ["a-s1"], ["a-s2", "a-s3"]));
    },
    TIMEOUT,
  );

  it(
    "a refused up runs no step that depends on the guard and keeps the recorded servers",
    () => {
      const before = steps();
      const r = run("up", ["a-s1"]);
      expect(r.status).not.toBe(0);
      expect(r.out).toContain("edge-west/site-a: this change removes servers a-s2, a-s3");
      expect(steps()).toBe(before);
      expect(recorded()).toEqual(three);
    },
    TIMEOUT,
  );

  it(
    "after 3 -> 5, passes 5 -> 3 and refuses 5 -> 2",
    () => {
      const five = [...three, "a-s4", "a-s5"];
      must(run("up", five));
      expect(recorded()).toEqual(five);
      must(run("preview", three));
      const r = run("preview", ["a-s1", "a-s2"]);
      expect(r.status).not.toBe(0);
      expect(r.out).toContain(
        "edge-west/site-a: this change removes servers a-s3, a-s4, a-s5, 3 of the site's 5: a majority",
      );
    },
    TIMEOUT,
  );
});
