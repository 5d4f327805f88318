import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import { localGatekeeperManifest } from "../../../components/gatekeeperManifest";
import { unwrapSecrets } from "../../../policies/scripts/renderStack";

/** The upstream Gatekeeper manifest; throws (the test fails) when it is missing. */
export function gatekeeperYaml(): string {
  return fs.readFileSync(localGatekeeperManifest(), "utf8");
}

export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  provider?: string;
}

/** Installs Pulumi mocks recording every resource; dynamic RandomSecrets get a fixed 32-char result, certificates mock PEMs. */
export function installMocks(): Registered[] {
  const registered: Registered[] = [];
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({
          type: args.type,
          name: args.name,
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          inputs: unwrapSecrets(args.inputs) as Record<string, any>,
          provider: args.provider,
        });
        // Certificates (SiteCa, ServerCertificate) get a PEM-shaped pair named after the resource.
        const state = args.type.startsWith("pulumi-nodejs:dynamic")
          ? {
              ...args.inputs,
              result: "MockSecretValue0123456789abcdefXY",
              certPem: `MOCK CERT ${args.name}`,
              privateKeyPem: `MOCK KEY ${args.name}`,
            }
          : args.inputs;
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        return args.inputs;
      },
    },
    "project",
    "stack",
    false,
  );
  return registered;
}

/** Waits until registrations stop arriving. */
export async function settle(registered: Registered[]): Promise<void> {
  let last = -1;
  for (let i = 0; i < 200 && registered.length !== last; i++) {
    last = registered.length;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function byType(registered: Registered[], type: string): Registered[] {
  return registered.filter((r) => r.type === type);
}

export function one(registered: Registered[], type: string, name?: string): Registered {
  const found = registered.filter((r) => r.type === type && (!name || r.name === name));
  if (found.length !== 1)
    throw new Error(
      `expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${registered.map((r) => `${r.type}/${r.name}`).join(", ")}`,
    );
  return found[0];
}

export function outputValue<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) =>
    o.apply((v) => {
      resolve(v);
      return v;
    }),
  );
}
