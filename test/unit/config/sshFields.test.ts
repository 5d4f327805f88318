/**
 * SSH users, hosts and ports in a stack are plain values (issue 14): they go
 * into ssh's argument vector and a bastion's ProxyCommand, so validate()
 * refuses anything a shell or ssh's option parser could read as more.
 */
import { problemsOf, validConfig } from "./helpers";

type Json = Record<string, unknown>;
const HOSTILE = [
  "x; touch /tmp/pwned",
  "$(touch /tmp/pwned)",
  "a\ntouch /tmp/pwned",
  "-oProxyCommand=sh",
  "a b",
  "`id`",
];

const edits: Array<[string, (c: Json, v: string) => void]> = [
  ["edgefleet:ssh.user", (c, v) => ((c["edgefleet:ssh"] as Json).user = v)],
  ["edgefleet:sites[0].hosts[1].user", (c, v) => (((c["edgefleet:sites"] as Json[])[0].hosts as Json[])[1].user = v)],
  [
    "edgefleet:ssh.bastion.user",
    (c, v) =>
      ((c["edgefleet:ssh"] as Json).bastion = {
        address: "192.0.2.1",
        user: v,
        hostKey: ((c["edgefleet:sites"] as Json[])[0].hosts as Json[])[0].hostKey,
      }),
  ],
  [
    "edgefleet:sites[0].hosts[1].address",
    (c, v) => (((c["edgefleet:sites"] as Json[])[0].hosts as Json[])[1].address = v),
  ],
  ["edgefleet:sites[0].hosts[1].port", (c, v) => (((c["edgefleet:sites"] as Json[])[0].hosts as Json[])[1].port = v)],
];

describe("hostile SSH values in the stack config", () => {
  it.each(edits.flatMap(([key, edit]) => HOSTILE.map((v) => [key, v, edit] as const)))(
    "%s = %j is refused with the key and a fix",
    (key, value, edit) => {
      const cfg = validConfig();
      edit(cfg, value);
      const ps = problemsOf(cfg);
      expect(ps.filter((p) => p.startsWith(`${key}: `))).toEqual([expect.stringMatching(/ \| \S/)]);
    },
  );

  it("takes ordinary login names", () => {
    for (const user of ["edgefleet", "ubuntu", "svc_edge-01", "a.b"]) {
      const cfg = validConfig();
      (cfg["edgefleet:ssh"] as Json).user = user;
      expect(problemsOf(cfg)).toEqual([]);
    }
  });
});
