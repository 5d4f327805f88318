/**
 * A K3s site's join secrets and the steps around them (infra/K3S-NOTES.md §8):
 *
 * - two generated secrets: the server token, which joins servers and keys
 *   K3s's encrypted bootstrap data, and the agent token, which agents join
 *   with (K3s's `agent-token`); an agent is never given the server token;
 * - the ca-hash step, on the first server once K3s runs there: the cluster CA
 *   hash that joining servers and agents pin in their tokens;
 * - the save-bootstrap step, on the last server once every server runs with
 *   the current agent token: K3s's copy of cred/passwd in the datastore is
 *   brought up to date, or a server would refuse its next restart.
 *
 * Rotating the agent token is raising `edgefleet:sites[i].agentTokenGeneration`:
 * a new agent token, every server's agent-token-file rewritten and the
 * servers restarted one at a time, the bootstrap data saved, then the agents'
 * token files rewritten and the agents restarted in their batches (README
 * "Join tokens, and rotating the agent token").
 */
import * as pulumi from "@pulumi/pulumi";
import { generatedSecret } from "../lib/generatedSecret";
import type { HostAccess } from "./connection";
import { hostStep, type HostStep, type HostTransport } from "./hostStep";
import {
  agentTokenFiles,
  caHashOf,
  firstServerTokenFiles,
  joiningServerTokenFiles,
  type HostTokenFiles,
} from "./render/joinTokens";
import { hostScript } from "./scripts";

export interface SiteTokens {
  serverToken: pulumi.Output<string>;
  agentToken: pulumi.Output<string>;
  /**
   * Changes exactly when the agent token is replaced. Not secret: it goes into
   * the service steps' digest, so each host restarts on its new token file.
   */
  epoch: string;
}

/** The length of both secrets; generatedSecret() makes letters and digits. */
export const TOKEN_LENGTH = 48;

/**
 * The site's two secrets. The server token keeps the resource name and the
 * inputs the one join token always had, so a stack that is already up keeps
 * its server token: K3s encrypts its bootstrap data with it, and a new one
 * would need `k3s token rotate` on a running cluster.
 */
export function siteTokens(
  transport: HostTransport,
  name: string,
  agentTokenGeneration: number,
  opts: pulumi.CustomResourceOptions,
): SiteTokens {
  if (!Number.isInteger(agentTokenGeneration) || agentTokenGeneration < 0) {
    throw new Error(`agentTokenGeneration must be a whole number of at least 0, got ${agentTokenGeneration}`);
  }
  const generation = String(agentTokenGeneration);
  return {
    serverToken: generatedSecret(transport, `${name}-token`, TOKEN_LENGTH, opts),
    agentToken: generatedSecret(transport, `${name}-agent-token`, TOKEN_LENGTH, opts, { generation }),
    epoch: `agent-token-${generation}`,
  };
}

interface Via {
  transport: HostTransport;
  access: HostAccess;
  privateKey: pulumi.Input<string>;
}

/**
 * The cluster CA hash, read on the first server once it runs
 * (scripts/ca-hash.sh). Its stdout is a secret. The hash alone is none
 * (whoever reaches the server's /cacerts can compute it), but the step reads
 * the file that also holds the server token: a secret stdout keeps whatever
 * it prints out of plain state and out of the standard transport's logs.
 * The step runs once: after `k3s certificate rotate-ca` with a new root CA,
 * replace it (`pulumi up --replace <its URN>`) so the hosts get tokens that
 * pin the new CA.
 */
export function caHashStep(name: string, via: Via, opts: pulumi.CustomResourceOptions): HostStep {
  return hostStep(
    name,
    {
      ...via,
      create: hostScript("ca-hash"),
      environment: { HOST_NAME: via.access.name },
      captureStdout: true,
      secretStdout: true,
    },
    opts,
  );
}

/** The hash from a ca-hash step, checked, as a secret. */
export function caHashFrom(step: HostStep, host: string): pulumi.Output<string> {
  return pulumi.secret(step.stdout.apply((s) => caHashOf(host, s)));
}

/**
 * What one host's token files hold (render/joinTokens.ts), as a secret. An
 * agent's is built from the agent token alone: the server token is not an
 * input of anything an agent receives.
 */
export function hostTokenFiles(
  role: "server" | "agent",
  isFirstServer: boolean,
  tokens: SiteTokens,
  caHash: pulumi.Output<string> | undefined,
): pulumi.Output<HostTokenFiles> {
  if (isFirstServer) {
    return pulumi.secret(
      pulumi
        .all([tokens.serverToken, tokens.agentToken])
        .apply(([serverToken, agentToken]) => firstServerTokenFiles({ serverToken, agentToken })),
    );
  }
  if (!caHash) throw new Error("a joining host needs the cluster CA hash from the first server");
  if (role === "agent") {
    return pulumi.secret(
      pulumi.all([tokens.agentToken, caHash]).apply(([agentToken, hash]) => agentTokenFiles(agentToken, hash)),
    );
  }
  return pulumi.secret(
    pulumi
      .all([tokens.serverToken, tokens.agentToken, caHash])
      .apply(([serverToken, agentToken, hash]) => joiningServerTokenFiles({ serverToken, agentToken }, hash)),
  );
}

/**
 * Bring K3s's datastore copy of cred/passwd up to date (scripts/save-bootstrap.sh),
 * on the server restarted last, once the servers run with the agent token of
 * `tokens.epoch`. Runs again whenever the epoch changes.
 */
export function saveBootstrapStep(
  name: string,
  via: Via,
  tokens: SiteTokens,
  opts: pulumi.CustomResourceOptions,
): HostStep {
  return hostStep(
    name,
    {
      ...via,
      create: hostScript("save-bootstrap"),
      environment: { HOST_NAME: via.access.name, AGENT_TOKEN_EPOCH: tokens.epoch },
      secretEnvironment: { EDGEFLEET_TOKEN: tokens.serverToken },
    },
    opts,
  );
}
