/**
 * VersionGuard and RandomSecret through the real engine, against the state
 * of a real `up` (the unit tests call their providers directly): the engine
 * hands VersionGuard's check the version recorded in state, so a downgrade
 * or a skipped minor is refused by `pulumi preview` before anything runs,
 * and a patch or one-minor upgrade is not; RandomSecret keeps its value
 * across an unchanged `up` and the state holds it only encrypted.
 *
 * The program is test/integration/fixtures/guards (no host, no network). The
 * state is a file backend in a tmp dir; the stack's config file lives there
 * too (--config-file), so nothing is written into the checkout.
 */
import * as fs from "fs";
import * as path from "path";
import { engineFixture, must } from "./engineFixture";

const fixture = path.join(__dirname, "fixtures", "guards");
const { stack, tmp, backend, project, configFile, pulumi } = engineFixture("guards", "edgefleet-guards-test");

const INSTALLED = "v1.31.4+k3s1";
const TIMEOUT = 2 * 60 * 1000;

/** `pulumi up` or `pulumi preview` of the fixture with the cluster at `version`. */
function run(command: "up" | "preview", version: string, extra: string[] = []) {
  return pulumi(fixture, [
    command,
    "--config-file",
    configFile,
    "--config",
    `k3sVersion=${version}`,
    "--suppress-progress",
    ...(command === "up" ? ["--yes"] : []),
    ...extra,
  ]);
}

function token(): string {
  return JSON.parse(must(pulumi(project, ["stack", "output", "token", "--show-secrets", "--json"])).stdout);
}

let firstToken: string;

beforeAll(() => {
  fs.mkdirSync(backend);
  fs.mkdirSync(project);
  fs.copyFileSync(path.join(fixture, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
  must(pulumi(project, ["stack", "init", "--no-select"]));
  must(run("up", INSTALLED));
  firstToken = token();
}, TIMEOUT);

afterAll(() => {
  try {
    pulumi(project, ["stack", "rm", "--yes", "--force"]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test(
  "after up, a preview at the same version reports no changes",
  () => {
    const r = run("preview", INSTALLED, ["--expect-no-changes"]);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/Resources:\s+3 unchanged\s/);
  },
  TIMEOUT,
);

test(
  "a patch upgrade previews as an update of the guard",
  () => {
    const r = run("preview", "v1.31.5+k3s1");
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/~ version: "v1\.31\.4\+k3s1" => "v1\.31\.5\+k3s1"/);
    expect(r.out).toMatch(/~ 1 to update/);
  },
  TIMEOUT,
);

test(
  "a downgrade is refused at preview, with the guard's words",
  () => {
    const r = run("preview", "v1.30.9+k3s1");
    expect(r.status).not.toBe(0);
    expect(r.out).toContain(
      `${stack}/guards: K3s downgrade from v1.31.4+k3s1 to v1.30.9+k3s1 refused: Kubernetes does not support downgrades ` +
        "(etcd and stored API versions only move forward). Keep v1.31.4+k3s1 or pick a newer release.",
    );
    expect(r.out).toMatch(/1 errored/);
  },
  TIMEOUT,
);

test(
  "a skipped minor (1.31 -> 1.33) is refused at preview, with the guard's words",
  () => {
    const r = run("preview", "v1.33.1+k3s1");
    expect(r.status).not.toBe(0);
    expect(r.out).toContain(
      `${stack}/guards: K3s upgrade from v1.31.4+k3s1 to v1.33.1+k3s1 refused: it skips minor version(s) v1.32.x. ` +
        "Kubernetes upgrades one minor at a time; upgrade to the latest v1.32.x release first.",
    );
    expect(r.out).toMatch(/1 errored/);
  },
  TIMEOUT,
);

test(
  "a one-minor upgrade previews as an update of the guard (the refusals left the state as it was)",
  () => {
    const r = run("preview", "v1.32.0+k3s1");
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/~ version: "v1\.31\.4\+k3s1" => "v1\.32\.0\+k3s1"/);
    expect(r.out).toMatch(/~ 1 to update/);
  },
  TIMEOUT,
);

test(
  "a second up with no change keeps the secret, and the state holds it only encrypted",
  () => {
    const r = must(run("up", INSTALLED));
    expect(r.out).toMatch(/Resources:\s+3 unchanged\s/);
    expect(firstToken).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(token()).toBe(firstToken);

    const exported = must(pulumi(project, ["stack", "export"])).stdout;
    expect(exported).not.toContain(firstToken);
    const resources: { type: string; outputs?: Record<string, unknown> }[] = JSON.parse(exported).deployment.resources;
    // The engine's marker of a secret value, with the value as ciphertext.
    const ciphertext = {
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      ciphertext: expect.any(String),
    };
    const secret = resources.find((res) => res.type === "pulumi-nodejs:dynamic/edgefleet:RandomSecret");
    expect(secret?.outputs?.result).toEqual(ciphertext);
    const root = resources.find((res) => res.type === "pulumi:pulumi:Stack");
    expect(root?.outputs?.token).toEqual(ciphertext);
  },
  TIMEOUT,
);

test("nothing was written into the checkout's fixture", () => {
  expect(fs.readdirSync(fixture).sort()).toEqual(["Pulumi.yaml", "index.ts"]);
});
