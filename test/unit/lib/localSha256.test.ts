/** The built-in transport hashes each artifact once per file version, not once per host. */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { localSha256 } from "../../../lib/hostCommandRun";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-sha-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const sha = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

describe("localSha256", () => {
  it("answers concurrent callers with one hash, and hashes a changed file again", async () => {
    const f = path.join(dir, "k3s");
    fs.writeFileSync(f, "first build");
    const [a, b] = await Promise.all([localSha256(f), localSha256(f)]);
    expect([a, b]).toEqual([sha("first build"), sha("first build")]);

    // Same size, new content: the mtime (or inode) moves, so the cache does not answer.
    fs.writeFileSync(f, "other build");
    fs.utimesSync(f, new Date(), new Date(Date.now() + 5000));
    expect(await localSha256(f)).toBe(sha("other build"));

    // Replaced by rename, as a new download lands.
    fs.writeFileSync(`${f}.new`, "third build");
    fs.renameSync(`${f}.new`, f);
    expect(await localSha256(f)).toBe(sha("third build"));
  });

  it("refuses a missing file, and does not remember the failure", async () => {
    const f = path.join(dir, "missing");
    await expect(localSha256(f)).rejects.toThrow(/ENOENT/);
    fs.writeFileSync(f, "now here");
    expect(await localSha256(f)).toBe(sha("now here"));
  });
});
