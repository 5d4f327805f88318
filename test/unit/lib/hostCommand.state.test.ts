/**
 * What HostCommand's provider puts into state for every step: the dynamic
 * provider is serialized into each resource's inputs and outputs, so its size
 * multiplies by steps × hosts (issue 15: 16 KB per step, twice, before the
 * runtime moved to lib/hostCommandRun.ts). Serialized with the SDK's own
 * function serializer, as pulumi.dynamic.Resource does.
 */
import * as pulumi from "@pulumi/pulumi";
import { makeProvider } from "../../../lib/hostCommand";

describe("HostCommand's serialized provider", () => {
  let text: string;
  beforeAll(async () => {
    const provider = makeProvider();
    text = (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false })).text;
  });

  it("stays small: the SSH runtime is not in it", () => {
    // 16 KB before; what is left is diff() and the loader, which a no-op needs.
    expect(text.length).toBeLessThan(6 * 1024);
    expect(text).not.toMatch(/StrictHostKeyChecking|sha256sum/);
    expect(text).toMatch(/hostCommandRun\.ts/);
  });

  it("names no path of this checkout, so another checkout serializes the same text", () => {
    expect(text).not.toContain(process.cwd());
  });
});
