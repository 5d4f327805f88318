/**
 * edgefleet:mqtt, sites[i].mqtt and edgefleet:mqttSecrets: what validate()
 * takes and merges, what it refuses (key path and fix, never a secret's
 * value), and what the site layer is then given.
 */
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import { mqttArgs } from "../../../config/siteLayer";
import { validate } from "../../../config/validate";
import { createCa, issueServerCertificate } from "../../../lib/x509";
import { SECRET_KEYS, problemsOf, validConfig } from "./helpers";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const withSecrets = new Set([...SECRET_KEYS, "edgefleet:mqttSecrets"]);
const GIVEN = "Given0123456789abcdef";

function cfg(edit: (c: Json) => void): Json {
  const c = validConfig() as Json;
  edit(c);
  return c;
}

async function value<T>(o: pulumi.Input<T> | undefined): Promise<T | undefined> {
  return o === undefined ? undefined : new Promise((resolve) => pulumi.output(o).apply((v) => resolve(v as T)));
}

describe("MQTT settings", () => {
  it("gives an MQTT site TLS only, a generated CA and no devices by default; other sites no MQTT", () => {
    const spec = validate("s", validConfig(), SECRET_KEYS);
    expect(spec.sites[0].mqtt).toBeUndefined(); // logisticsHub
    expect(spec.sites[1].mqtt).toEqual({
      plaintext: false,
      ca: "generated",
      caGeneration: 0,
      certificateGeneration: 0,
      serverNames: [],
      devices: [],
    });
  });

  it("takes the region's default under each site's own keys, devices by name or in full", () => {
    const spec = validate(
      "s",
      cfg((c) => {
        c["edgefleet:mqtt"] = { plaintext: true, devices: ["shelf-1"] };
        c["edgefleet:sites"][1].mqtt = {
          serverNames: ["mqtt.hub-b.example.com"],
          devices: ["gate-1", { name: "gate-2", password: "stack" }, { name: "gate-3", generation: 4 }],
        };
        c["edgefleet:mqttSecrets"] = { devicePasswords: { "hub-b": { "gate-2": GIVEN } } };
      }),
      withSecrets,
    );
    expect(spec.sites[1].mqtt).toEqual({
      plaintext: true,
      ca: "generated",
      caGeneration: 0,
      certificateGeneration: 0,
      serverNames: ["mqtt.hub-b.example.com"],
      devices: [
        { name: "gate-1", password: "generated", generation: 0 },
        { name: "gate-2", password: "stack", generation: 0 },
        { name: "gate-3", password: "generated", generation: 4 },
      ],
    });
  });

  it("hands the site layer the stack's passwords and CA as secrets, and the hosts' addresses", async () => {
    const ca = createCa("stack CA", 365);
    const spec = validate(
      "s",
      cfg((c) => {
        c["edgefleet:sites"][1].mqtt = { ca: "stack", devices: [{ name: "gate-2", password: "stack" }, "gate-1"] };
        c["edgefleet:mqttSecrets"] = {
          ca: { cert: ca.certPem, key: ca.privateKeyPem },
          devicePasswords: { "hub-b": { "gate-2": GIVEN } },
        };
      }),
      withSecrets,
    );
    const a = mqttArgs(spec, spec.sites[1]);
    expect(a.addresses).toEqual(["198.51.100.11", "198.51.100.21"]);
    expect(a.devices![1]).toEqual({ name: "gate-1", generation: 0 });
    expect(await value(a.devices![0].password)).toBe(GIVEN);
    expect(await pulumi.isSecret(pulumi.output(a.devices![0].password!))).toBe(true);
    expect(a.ca!.certPem).toBe(ca.certPem);
    expect(await pulumi.isSecret(pulumi.output(a.ca!.privateKeyPem))).toBe(true);
  });

  it("refuses mqtt on a site whose profile runs no broker", () => {
    expect(problemsOf(cfg((c) => (c["edgefleet:sites"][0].mqtt = { plaintext: true })))).toEqual([
      expect.stringMatching(
        /^edgefleet:sites\[0\]\.mqtt: site hub-a's profile logisticsHub runs no MQTT broker \| remove mqtt from the site, or give it an MQTT profile \(retailCity\)/,
      ),
    ]);
  });

  it("refuses hostile or unusable device names and values at their keys", () => {
    const problems = problemsOf(
      cfg((c) => {
        c["edgefleet:sites"][1].mqtt = {
          plaintext: "yes",
          ca: "letsencrypt",
          serverNames: ["MQTT..example"],
          devices: [".*", "tracker", "a/b", { name: "ok-1", password: "plain" }, { name: "ok-2", generation: -1 }],
        };
      }),
    );
    const at = "edgefleet:sites[1].mqtt";
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^${at.replace(/[[\].]/g, "\\$&")}\\.plaintext: "yes" is not true or false \\| leave plaintext out`,
          ),
        ),
        expect.stringMatching(/\.ca: "letsencrypt" is not a CA source \| write generated .* or stack/),
        expect.stringMatching(/\.serverNames\[0\]: "MQTT\.\.example" is not a DNS name/),
        expect.stringMatching(/\.devices\[0\]: "\.\*" is not a valid device name \| use lower-case letters/),
        expect.stringMatching(
          /\.devices\[1\]: "tracker" is a user the broker keeps for itself \| name the device otherwise, for example tracker-1/,
        ),
        expect.stringMatching(/\.devices\[2\]: "a\/b" is not a valid device name/),
        expect.stringMatching(
          /\.devices\[3\]\.password: "plain" is not a password source \| write generated .* or stack/,
        ),
        expect.stringMatching(/\.devices\[4\]\.generation: must not be negative \| set generation to 0 or more/),
      ]),
    );
    expect(problems.every((p) => !/no union|Invalid input/i.test(p))).toBe(true);
  });

  it("refuses a device listed twice", () => {
    expect(
      problemsOf(cfg((c) => (c["edgefleet:sites"][1].mqtt = { devices: ["gate-1", { name: "gate-1" }] }))),
    ).toEqual([
      expect.stringMatching(
        /^edgefleet:sites\[1\]\.mqtt\.devices\[1\]: device gate-1 is listed twice for site hub-b \| list each device once/,
      ),
    ]);
  });

  it("refuses password: stack without the password, and given passwords nothing uses", () => {
    const problems = problemsOf(
      cfg((c) => {
        c["edgefleet:mqtt"] = { devices: [{ name: "gate-2", password: "stack" }, "gate-1"] };
        c["edgefleet:mqttSecrets"] = {
          devicePasswords: { "hub-b": { "gate-1": GIVEN, "gate-9": GIVEN }, "hub-z": { x: GIVEN } },
        };
      }),
      withSecrets,
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^edgefleet:mqtt\.devices\[0\]\.password: device gate-2 of site hub-b takes its password from the stack, which has none for it \| pulumi config set --secret --path 'edgefleet:mqttSecrets\.devicePasswords\.hub-b\.gate-2'/,
      ),
      expect.stringMatching(
        /^edgefleet:mqttSecrets\.devicePasswords\.hub-b\.gate-1: .*generates its own .* \| set password: stack on the device/,
      ),
      expect.stringMatching(
        /^edgefleet:mqttSecrets\.devicePasswords\.hub-b\.gate-9: .*does not list it \| add \{ name: gate-9, password: stack \}/,
      ),
      expect.stringMatching(
        /^edgefleet:mqttSecrets\.devicePasswords\.hub-z: .*site hub-z, which the stack does not have/,
      ),
    ]);
    expect(problems.join("\n")).not.toContain(GIVEN);
  });

  it("refuses a weak or non-string device password without showing it", () => {
    const problems = problemsOf(
      cfg((c) => {
        c["edgefleet:mqtt"] = {
          devices: [
            { name: "gate-2", password: "stack" },
            { name: "gate-3", password: "stack" },
          ],
        };
        c["edgefleet:mqttSecrets"] = {
          devicePasswords: { "hub-b": { "gate-2": "hunter2-hunter2-hunter2", "gate-3": 1234567890123456789 } },
        };
      }),
      withSecrets,
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^edgefleet:mqttSecrets\.devicePasswords\["hub-b"\]\["gate-2"\]: the device password is not 16 to 128 letters and digits \| set one such as `openssl rand -hex 16`/,
      ),
      expect.stringMatching(
        /^edgefleet:mqttSecrets\.devicePasswords\["hub-b"\]\["gate-3"\]: the device password is not/,
      ),
    ]);
    expect(problems.join("\n")).not.toMatch(/hunter2|1234567890/);
  });

  it("refuses MQTT secrets in plain text", () => {
    const problems = problemsOf(
      cfg((c) => {
        c["edgefleet:mqtt"] = { devices: [{ name: "gate-2", password: "stack" }] };
        c["edgefleet:mqttSecrets"] = { devicePasswords: { "hub-b": { "gate-2": GIVEN } } };
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^edgefleet:mqttSecrets: the MQTT CA key and device passwords are stored in plain text .* \| remove edgefleet:mqttSecrets from the stack file and set each value as a secret: pulumi config set --secret --path/,
      ),
    ]);
  });

  describe("a stack-provided CA", () => {
    const ca = createCa("stack CA", 365);
    const leaf = issueServerCertificate(ca, { dnsNames: ["x"], ipAddresses: [], validityDays: 30 });
    const withCa = (cert: string, key: string, use = true) =>
      problemsOf(
        cfg((c) => {
          if (use) c["edgefleet:sites"][1].mqtt = { ca: "stack" };
          c["edgefleet:mqttSecrets"] = { ca: { cert, key } };
        }),
        withSecrets,
      );

    it("is taken when it parses, is a CA and the key is its own", () => {
      expect(withCa(ca.certPem, ca.privateKeyPem)).toEqual([]);
    });

    it.each([
      [
        "garbage",
        () => ["-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n", ca.privateKeyPem],
        /cert is not a PEM X\.509 certificate/,
      ],
      ["a server certificate", () => [leaf.certPem, leaf.privateKeyPem], /is not a CA certificate/],
      ["another key", () => [ca.certPem, leaf.privateKeyPem], /key is not the private key of cert/],
      [
        "an EC key",
        () => [
          ca.certPem,
          crypto
            .generateKeyPairSync("ec", { namedCurve: "P-256" })
            .privateKey.export({ type: "pkcs8", format: "pem" }) as string,
        ],
        /only RSA CA keys/,
      ],
    ])("is refused when it is %s, without showing the key", (_what, pair, why) => {
      const [cert, key] = pair();
      const problems = withCa(cert, key);
      expect(problems).toEqual([
        expect.stringMatching(
          new RegExp(
            `^edgefleet:mqttSecrets\\.ca: the stack's MQTT CA cannot sign the brokers' certificates: .*${why.source}.* \\| set the PEM of an RSA CA certificate`,
          ),
        ),
      ]);
      expect(problems.join("\n")).not.toContain("PRIVATE KEY");
    });

    it("is required by ca: stack, and refused when no site uses it", () => {
      expect(problemsOf(cfg((c) => (c["edgefleet:mqtt"] = { ca: "stack" })))).toEqual([
        expect.stringMatching(
          /^edgefleet:mqttSecrets\.ca: site\(s\) hub-b use the stack's CA .* but the stack has none \| pulumi config set --secret --path 'edgefleet:mqttSecrets\.ca\.cert' < ca\.crt/,
        ),
      ]);
      expect(withCa(ca.certPem, ca.privateKeyPem, false)).toEqual([
        expect.stringMatching(
          /^edgefleet:mqttSecrets\.ca: the stack has an MQTT CA but no MQTT site uses it \| set ca: stack/,
        ),
      ]);
    });
  });
});
