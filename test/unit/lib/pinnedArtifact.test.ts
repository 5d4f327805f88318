/**
 * The one outside input of the program, pinned: a local copy is used when its
 * digest matches, else the URL is fetched once (a real HTTP server on
 * loopback) and kept; every failure names the setting and the fix, and a bad
 * download leaves nothing behind.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { ArtifactError, ensurePinnedArtifact, type PinnedArtifact } from "../../../lib/pinnedArtifact";
import { localGatekeeperManifest } from "../../../components/gatekeeperManifest";
import { GATEKEEPER_RELEASE } from "../../../components/gatekeeperRelease";

const body = Buffer.from("apiVersion: v1\nkind: Namespace\nmetadata: {name: gatekeeper-system}\n");
const sha = crypto.createHash("sha256").update(body).digest("hex");
let server: http.Server;
let base: string;
let hits = 0;
let dir: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits++;
    if (req.url === "/gatekeeper.yaml") res.end(body);
    else if (req.url === "/tampered.yaml") res.end(Buffer.concat([body, Buffer.from("# extra\n")]));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-artifact-"));
  hits = 0;
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const artifact = (over: Partial<PinnedArtifact> = {}): PinnedArtifact => ({
  what: "the Gatekeeper v9.9.9 release manifest",
  configKey: "edgefleet:gatekeeper",
  file: path.join(dir, "artifacts", "gatekeeper.yaml"),
  sha256: sha,
  url: `${base}/gatekeeper.yaml`,
  ...over,
});

const failure = async (a: PinnedArtifact): Promise<string> => {
  try {
    await ensurePinnedArtifact(a);
  } catch (e) {
    expect(e).toBeInstanceOf(ArtifactError);
    return (e as Error).message;
  }
  throw new Error("expected an ArtifactError");
};

test("downloads once, keeps the file, and reads it locally the next time", async () => {
  const a = artifact();
  expect(await ensurePinnedArtifact(a)).toBe(a.file);
  expect(fs.readFileSync(a.file)).toEqual(body);
  expect(hits).toBe(1);
  expect(await ensurePinnedArtifact(a)).toBe(a.file);
  expect(hits).toBe(1);
});

test("air-gapped: a local copy with the pinned digest needs no URL", async () => {
  const a = artifact({ url: undefined });
  fs.mkdirSync(path.dirname(a.file), { recursive: true });
  fs.writeFileSync(a.file, body);
  expect(await ensurePinnedArtifact(a)).toBe(a.file);
  expect(hits).toBe(0);
});

test("a download with another digest is refused and not kept", async () => {
  const msg = await failure(artifact({ url: `${base}/tampered.yaml` }));
  expect(msg).toContain(`edgefleet:gatekeeper.sha256 pins ${sha}`);
  expect(msg).toContain("it was not kept");
  expect(fs.existsSync(artifact().file)).toBe(false);
  expect(fs.readdirSync(dir)).toEqual([]);
});

test("a local copy with another digest is refused, naming the file, the key and the fix", async () => {
  const a = artifact();
  fs.mkdirSync(path.dirname(a.file), { recursive: true });
  fs.writeFileSync(a.file, "not it");
  const msg = await failure(a);
  expect(msg).toContain(a.file);
  expect(msg).toContain("edgefleet:gatekeeper.sha256");
  expect(msg).toMatch(/Fix: replace the file/);
  expect(hits).toBe(0);
});

test("missing file and no URL; a URL that fails: one message each with the key and the fix", async () => {
  expect(await failure(artifact({ url: undefined }))).toMatch(
    /is missing: no file at .* and no edgefleet:gatekeeper.url .*Fix: put the release file there/,
  );
  expect(await failure(artifact({ url: `${base}/nope.yaml` }))).toMatch(
    /could not be downloaded from .*nope.yaml \(HTTP 404\).*Fix: check the URL in edgefleet:gatekeeper.url/,
  );
});

test("the default release is the toolchain's gator version, and its local copy matches the pin", () => {
  const env = fs.readFileSync(path.join(__dirname, "..", "..", "..", "tools", "versions.env"), "utf8");
  expect(env).toMatch(new RegExp(`^GATEKEEPER_VERSION=${GATEKEEPER_RELEASE.version.replace(/\./g, "\\.")}$`, "m"));
  expect(fs.existsSync(localGatekeeperManifest())).toBe(true);
});
