/**
 * X.509 for the site brokers: a site CA and a server certificate it signs,
 * and the checks a stack-provided CA must pass. Node's crypto makes the keys
 * and reads certificates but cannot issue one, so issuing is node-forge's
 * (pure JavaScript). Every function requires its libraries in its own body:
 * the dynamic providers that call them (lib/siteCa.ts, lib/serverCertificate.ts)
 * are serialized with their closure and run in the engine's provider
 * process, where this module's top-level imports do not exist.
 */

/** PEM of a certificate and of its (PKCS#8) private key. */
export interface KeyPairPem {
  certPem: string;
  privateKeyPem: string;
}

export interface ServerCertificateRequest {
  /** DNS subjectAltNames; the first is also the subject's CN. */
  dnsNames: string[];
  /** IP subjectAltNames (IPv4 or IPv6 literals). */
  ipAddresses: string[];
  validityDays: number;
}

/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */

/** A fresh CA: RSA 3072, self-signed, CA:TRUE with path length 0 (it signs server certificates only). */
export function createCa(commonName: string, validityDays: number): KeyPairPem {
  const crypto = require("crypto");
  const forge = require("node-forge");
  const keys = crypto.generateKeyPairSync("rsa", { modulusLength: 3072 });
  const privateKeyPem: string = keys.privateKey.export({ type: "pkcs8", format: "pem" });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey.export({ type: "spki", format: "pem" }));
  cert.serialNumber = "01" + crypto.randomBytes(15).toString("hex");
  cert.validity.notBefore = new Date(Date.now() - 5 * 60_000);
  cert.validity.notAfter = new Date(Date.now() + validityDays * 86_400_000);
  const subject = [{ name: "commonName", value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  signWithNode(cert, privateKeyPem);
  return { certPem: forge.pki.certificateToPem(cert), privateKeyPem };
}

/**
 * Signs a forge certificate with Node's crypto: forge's own RSA signing is
 * pure JavaScript and takes seconds per certificate.
 */
function signWithNode(cert: any, privateKeyPem: string): void {
  const crypto = require("crypto");
  const forge = require("node-forge");
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  cert.tbsCertificate = forge.pki.getTBSCertificate(cert);
  const tbs = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), "binary");
  cert.signature = crypto.sign("sha256", tbs, privateKeyPem).toString("binary");
}

/** A server certificate for `req`, signed by `ca`: serverAuth only, RSA 2048 (what small devices' TLS stacks take). */
export function issueServerCertificate(ca: KeyPairPem, req: ServerCertificateRequest): KeyPairPem {
  const crypto = require("crypto");
  const forge = require("node-forge");
  if (req.dnsNames.length === 0) throw new Error("a server certificate needs at least one DNS name");
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const keys = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const privateKeyPem: string = keys.privateKey.export({ type: "pkcs8", format: "pem" });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey.export({ type: "spki", format: "pem" }));
  cert.serialNumber = "01" + crypto.randomBytes(15).toString("hex");
  cert.validity.notBefore = new Date(Date.now() - 5 * 60_000);
  const notAfter = Date.now() + req.validityDays * 86_400_000;
  // Never past the CA: a client would refuse the chain the day the CA expires anyway.
  cert.validity.notAfter = new Date(Math.min(notAfter, caCert.validity.notAfter.getTime()));
  cert.setSubject([{ name: "commonName", value: req.dnsNames[0] }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        ...req.dnsNames.map((value) => ({ type: 2, value })),
        ...req.ipAddresses.map((ip) => ({ type: 7, ip })),
      ],
    },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signWithNode(cert, ca.privateKeyPem);
  return { certPem: forge.pki.certificateToPem(cert), privateKeyPem };
}

/**
 * Why a stack-provided CA cannot sign the broker's certificate, or undefined:
 * the certificate parses, is a CA (basicConstraints CA:TRUE), is valid now,
 * and the key is its private key.
 */
export function caProblem(ca: { cert: string; key: string }, now = new Date()): string | undefined {
  const crypto = require("crypto");
  let cert: any;
  try {
    cert = new crypto.X509Certificate(ca.cert);
  } catch {
    return "cert is not a PEM X.509 certificate";
  }
  if (!cert.ca)
    return `cert (subject ${cert.subject.replace(/\n/g, ", ")}) is not a CA certificate (no basicConstraints CA:TRUE)`;
  if (new Date(cert.validTo) <= now) return `cert expired on ${cert.validTo}`;
  if (new Date(cert.validFrom) > now) return `cert is not valid before ${cert.validFrom}`;
  let key: any;
  try {
    key = crypto.createPrivateKey(ca.key);
  } catch {
    return "key is not an unencrypted PEM private key";
  }
  if (key.asymmetricKeyType !== "rsa") return `key is ${key.asymmetricKeyType}, but only RSA CA keys can sign here`;
  if (!cert.checkPrivateKey(key)) return "key is not the private key of cert";
  return undefined;
}
