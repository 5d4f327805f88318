/**
 * The MQTT broker's certificates through the real engine (the unit tests
 * call lib/x509.ts directly): the dynamic providers, serialized with their
 * closure, make a CA and a server certificate that chain; an unchanged `up`
 * keeps both; new node addresses re-issue the server certificate under the
 * same CA; private keys and device passwords are in state only encrypted,
 * and the secrets audit (secretsAudit.ts) finds every one of them.
 *
 * The program is test/integration/fixtures/certs (no host, no network).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { engineFixture, must } from "./engineFixture";
import { leaks, secretValues } from "./secretsAudit";

const fixture = path.join(__dirname, "fixtures", "certs");
const { tmp, backend, project, configFile, pulumi } = engineFixture("certs", "edgefleet-certs-test");
const TIMEOUT = 3 * 60 * 1000;

function up(addresses: string) {
  return must(
    pulumi(fixture, [
      "up",
      "--yes",
      "--suppress-progress",
      "--config-file",
      configFile,
      "--config",
      `addresses=${addresses}`,
    ]),
  );
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function outputs(): Json {
  return JSON.parse(must(pulumi(project, ["stack", "output", "--show-secrets", "--json"])).stdout);
}

let first: Json;

beforeAll(() => {
  fs.mkdirSync(backend);
  fs.mkdirSync(project);
  fs.copyFileSync(path.join(fixture, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
  must(pulumi(project, ["stack", "init", "--no-select"]));
  up("192.0.2.10");
  first = outputs();
}, TIMEOUT);

afterAll(() => {
  try {
    pulumi(project, ["stack", "rm", "--yes", "--force"]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("the engine-run providers make a CA and a broker certificate that chain, for the node address", () => {
  const ca = new crypto.X509Certificate(first.caCertPem);
  const cert = new crypto.X509Certificate(first.certPem);
  expect(ca.ca).toBe(true);
  expect(cert.verify(ca.publicKey)).toBe(true);
  expect(cert.checkIP("192.0.2.10")).toBe("192.0.2.10");
  expect(cert.checkPrivateKey(crypto.createPrivateKey(first.keyPem))).toBe(true);
});

test(
  "an unchanged up keeps both certificates; a new address re-issues the broker's under the same CA",
  () => {
    expect(up("192.0.2.10").out).toMatch(/Resources:\s+4 unchanged\s/);
    expect(outputs()).toEqual(first);
    up("192.0.2.10,192.0.2.11");
    const now = outputs();
    expect(now.caCertPem).toBe(first.caCertPem);
    expect(now.mqtt).toEqual(first.mqtt);
    expect(now.certPem).not.toBe(first.certPem);
    const cert = new crypto.X509Certificate(now.certPem);
    expect(cert.checkIP("192.0.2.11")).toBe("192.0.2.11");
    expect(cert.verify(new crypto.X509Certificate(first.caCertPem).publicKey)).toBe(true);
  },
  TIMEOUT,
);

test("keys and device passwords are in state only encrypted, and the secrets audit sees each", () => {
  const o = outputs();
  const shown = JSON.parse(must(pulumi(project, ["stack", "export", "--show-secrets"])).stdout);
  const secrets = secretValues(shown);
  const password: string = o.mqtt.devices[0].password;
  expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
  for (const v of [password, o.keyPem.trim()]) expect([...secrets].map((s) => s.trim())).toContain(v);
  // The CA's key is in state once per holder (SiteCa's output, ServerCertificate's input): each is secret.
  const caKeys = [...secrets].filter((s) => s.includes("PRIVATE KEY") && s.trim() !== o.keyPem.trim());
  expect(caKeys.length).toBeGreaterThanOrEqual(1);
  const exported = must(pulumi(project, ["stack", "export"])).stdout;
  expect(leaks(secrets, [["exported state", exported]])).toEqual([]);
  expect(exported).not.toContain("PRIVATE KEY");
  // The certificates are public: devices are given the CA's.
  expect(exported).toContain(JSON.stringify(o.caCertPem).slice(1, 60));
});

test("nothing was written into the checkout's fixture", () => {
  expect(fs.readdirSync(fixture).sort()).toEqual(["Pulumi.yaml", "index.ts"]);
});
