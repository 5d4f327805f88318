/**
 * What HostCommand's provider puts into state for every step: the dynamic
 * provider is serialized into each resource's inputs and outputs, so its size
 * multiplies by steps × hosts (issue 15: 16 KB per step, twice, before the
 * runtime moved to lib/hostCommandRun.ts; 5.8 KB while diff() was still in
 * it). Serialized with the SDK's own function serializer, as
 * pulumi.dynamic.Resource does.
 */
import { execFileSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { makeProvider } from "../../../lib/hostCommand";

describe("HostCommand's serialized provider", () => {
  let text: string;
  beforeAll(async () => {
    const provider = makeProvider();
    text = (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false })).text;
  });

  it("is only the loader: the runtime and diff() are not in it", () => {
    expect(text.length).toBeLessThan(2.5 * 1024);
    expect(text).not.toMatch(/StrictHostKeyChecking|sha256sum|hostKey/);
    expect(text).toMatch(/hostCommandRun\.ts/);
  });

  it("names no path of this checkout, so another checkout serializes the same text", () => {
    expect(text).not.toContain(process.cwd());
  });

  it("loads its runtime as the provider process does: Node's own type stripping, from the project folder", () => {
    // Not through jest's transformer: a plain node, as pulumi-resource-pulumi-nodejs runs.
    const out = execFileSync(
      process.execPath,
      [
        "-e",
        'const m = require(require("path").join(process.cwd(), "lib/hostCommandRun.ts"));' +
          'console.log(typeof m.provider.diff, typeof m.provider.configure, m.hostWrapper().includes("setsid"))',
      ],
      { cwd: process.cwd(), encoding: "utf8" },
    );
    expect(out.trim()).toBe("function function true");
  });
});
