import * as pulumi from "@pulumi/pulumi";
import { issueServerCertificate } from "./x509";

/**
 * A server certificate signed by a CA (a SiteCa's or the stack's), made once
 * and kept in state: the private key a secret output, the certificate plain.
 * Re-issued (under the same CA) only when its names, the CA or `generation`
 * change, so an `up` that changes nothing here keeps the broker's certificate.
 */
export interface ServerCertificateArgs {
  /** DNS subjectAltNames; the first is the subject's CN. */
  dnsNames: string[];
  /** IP subjectAltNames: the nodes' addresses, where a NodePort answers. */
  ipAddresses: string[];
  caCertPem: pulumi.Input<string>;
  /** Held as a secret input. */
  caPrivateKeyPem: pulumi.Input<string>;
  /** @default 1095 (three years) */
  validityDays?: number;
  /** Raise to re-issue (a new key) before the certificate expires. @default 0 */
  generation?: number;
}

interface Inputs {
  dnsNames: string[];
  ipAddresses: string[];
  caCertPem: string;
  caPrivateKeyPem: string;
  validityDays: number;
  generation: number;
}

const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: Inputs, news: Inputs) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (!Array.isArray(news.dnsNames) || news.dnsNames.length === 0)
      failures.push({ property: "dnsNames", reason: "a server certificate needs at least one DNS name" });
    return { inputs: news, failures };
  },
  async create(inputs: Inputs) {
    // issueServerCertificate is serialized with this closure and requires its libraries at run time.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const crypto = require("crypto");
    const c = issueServerCertificate(
      { certPem: inputs.caCertPem, privateKeyPem: inputs.caPrivateKeyPem },
      { dnsNames: inputs.dnsNames, ipAddresses: inputs.ipAddresses, validityDays: inputs.validityDays },
    );
    return { id: crypto.randomUUID(), outs: { ...inputs, certPem: c.certPem, privateKeyPem: c.privateKeyPem } };
  },
  async diff(_id: string, olds: Inputs, news: Inputs) {
    const same = (k: keyof Inputs) => JSON.stringify(olds[k]) === JSON.stringify(news[k]);
    const replaces = (["dnsNames", "ipAddresses", "caCertPem", "caPrivateKeyPem", "generation"] as const).filter(
      (k) => !same(k),
    );
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
};

export class ServerCertificate extends pulumi.dynamic.Resource {
  declare public readonly certPem: pulumi.Output<string>;
  /** A secret output. */
  declare public readonly privateKeyPem: pulumi.Output<string>;

  constructor(name: string, args: ServerCertificateArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        dnsNames: args.dnsNames,
        ipAddresses: args.ipAddresses,
        caCertPem: args.caCertPem,
        caPrivateKeyPem: pulumi.secret(args.caPrivateKeyPem),
        validityDays: args.validityDays ?? 1095,
        generation: args.generation ?? 0,
        certPem: undefined,
        privateKeyPem: undefined,
      },
      { ...opts, additionalSecretOutputs: ["privateKeyPem", "caPrivateKeyPem"] },
      "edgefleet",
      "ServerCertificate",
    );
  }
}
