import * as pulumi from "@pulumi/pulumi";
import type { HostCommandArgs } from "../lib/hostCommand";

/** Where and how to reach one host over SSH, as the stack config says. */
export interface HostAccess {
  /** Inventory name. */
  name: string;
  /** The site it belongs to, for error messages. @default none */
  site?: string;
  address: string;
  port: number;
  user: string;
  /** Pinned host public key ("ssh-ed25519 AAAA..."). */
  hostKey: string;
  /** Config path of the pin, for error messages. */
  hostKeyConfigPath: string;
  bastion?: { address: string; port: number; user: string; hostKey: string };
}

/**
 * The HostCommand connection for a host. Without a key it names the stack
 * setting the provider reads the key from when a step runs
 * (edgefleet:ssh.privateKey), so no step's state holds it; with one (a test
 * host outside any stack), the key stays a secret.
 */
export function connectionFor(host: HostAccess, privateKey?: pulumi.Input<string>): HostCommandArgs["connection"] {
  return {
    hostName: host.name,
    site: host.site,
    host: host.address,
    port: host.port,
    user: host.user,
    hostKey: host.hostKey,
    hostKeyConfigPath: host.hostKeyConfigPath,
    ...(privateKey === undefined ? {} : { privateKey: pulumi.secret(privateKey) }),
    bastion: host.bastion
      ? { host: host.bastion.address, port: host.bastion.port, user: host.bastion.user, hostKey: host.bastion.hostKey }
      : undefined,
  };
}
