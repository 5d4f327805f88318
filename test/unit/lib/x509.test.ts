/**
 * The broker's certificates (lib/x509.ts) as OpenSSL reads them: a chain it
 * verifies, the SANs devices connect by, and a stack CA refused for each
 * reason caProblem names.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { caProblem, createCa, issueServerCertificate } from "../../../lib/x509";

const ca = createCa("edgefleet s1 MQTT CA", 3650);
const server = issueServerCertificate(ca, {
  dnsNames: ["rabbitmq-mqtt.edgefleet.svc", "localhost"],
  ipAddresses: ["192.0.2.10", "2001:db8::1"],
  validityDays: 1095,
});

function openssl(args: string[]): string {
  return execFileSync("openssl", args, { encoding: "utf8", stdio: "pipe" });
}

describe("site CA and server certificate", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgefleet-x509-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("chains: openssl verifies the server certificate against the CA, for TLS servers", () => {
    fs.writeFileSync(path.join(dir, "ca.crt"), ca.certPem);
    fs.writeFileSync(path.join(dir, "tls.crt"), server.certPem);
    expect(
      openssl(["verify", "-purpose", "sslserver", "-CAfile", path.join(dir, "ca.crt"), path.join(dir, "tls.crt")]),
    ).toMatch(/: OK/);
    const other = createCa("another CA", 10);
    fs.writeFileSync(path.join(dir, "other.crt"), other.certPem);
    expect(() => openssl(["verify", "-CAfile", path.join(dir, "other.crt"), path.join(dir, "tls.crt")])).toThrow();
  });

  it("names every DNS name and address, and is no CA itself", () => {
    const x = new crypto.X509Certificate(server.certPem);
    expect(x.subjectAltName).toBe(
      "DNS:rabbitmq-mqtt.edgefleet.svc, DNS:localhost, IP Address:192.0.2.10, IP Address:2001:DB8:0:0:0:0:0:1",
    );
    expect(x.ca).toBe(false);
    expect(x.checkHost("rabbitmq-mqtt.edgefleet.svc")).toBe("rabbitmq-mqtt.edgefleet.svc");
    expect(x.checkIP("192.0.2.10")).toBe("192.0.2.10");
    expect(x.checkIP("192.0.2.11")).toBeUndefined();
    expect(x.checkPrivateKey(crypto.createPrivateKey(server.privateKeyPem))).toBe(true);
    expect(new crypto.X509Certificate(ca.certPem).ca).toBe(true);
  });

  it("never outlives its CA", () => {
    const shortCa = createCa("short", 30);
    const s = issueServerCertificate(shortCa, { dnsNames: ["a"], ipAddresses: [], validityDays: 1095 });
    expect(new Date(new crypto.X509Certificate(s.certPem).validTo).getTime()).toBeLessThanOrEqual(
      new Date(new crypto.X509Certificate(shortCa.certPem).validTo).getTime(),
    );
  });

  it("a stack CA passes only when it parses, is a CA, is valid now and the key is its own", () => {
    expect(caProblem({ cert: ca.certPem, key: ca.privateKeyPem })).toBeUndefined();
    expect(caProblem({ cert: "not a cert", key: ca.privateKeyPem })).toMatch(/not a PEM X.509 certificate/);
    expect(caProblem({ cert: server.certPem, key: server.privateKeyPem })).toMatch(/not a CA certificate/);
    expect(caProblem({ cert: ca.certPem, key: server.privateKeyPem })).toMatch(/not the private key of cert/);
    expect(
      caProblem({ cert: ca.certPem, key: "-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----\n" }),
    ).toMatch(/not an unencrypted PEM private key/);
    expect(caProblem({ cert: ca.certPem, key: ca.privateKeyPem }, new Date(Date.now() + 4000 * 86_400_000))).toMatch(
      /expired/,
    );
    const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
    expect(
      caProblem({ cert: ca.certPem, key: ec.privateKey.export({ type: "pkcs8", format: "pem" }) as string }),
    ).toMatch(/only RSA/);
  });
});
