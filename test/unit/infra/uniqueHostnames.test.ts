/** Real hostnames within a site, from the preflight results (issue 14): one clash, one message, before any install. */
import * as pulumi from "@pulumi/pulumi";
import { uniqueHostnames } from "../../../infra/k3sHost";

const result = (hostname: string) =>
  `checks ok\nEDGEFLEET_RESULT {"script":"preflight","host":"x","changed":false,"arch":"amd64","hostname":"${hostname}"}\n`;

describe("uniqueHostnames", () => {
  it("passes hosts with their own hostnames, and hosts whose results are not known yet (preview)", () => {
    expect(() => uniqueHostnames("s/site", ["a", "b", "c"], [result("a"), result("b"), undefined])).not.toThrow();
  });

  it("refuses two hosts with one hostname (case-insensitively), naming both, as a message alone", () => {
    let err: unknown;
    try {
      uniqueHostnames("prod/city-1", ["s1", "a1", "a2"], [result("ubuntu"), result("edge-a1"), result("Ubuntu")]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(pulumi.RunError);
    expect((err as Error).message).toBe(
      "prod/city-1: s1 and a2 both have hostname Ubuntu; nothing was installed. Fix: give each host of the site its own hostname (hostnamectl set-hostname <name>, for example its inventory name) and run again.",
    );
  });
});
