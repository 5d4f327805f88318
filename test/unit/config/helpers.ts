import { createHash } from "node:crypto";
import { ConfigError, validate } from "../../../config/validate";

/** A well-formed ssh-ed25519 public key line derived from `seed` (not a real host's key). */
export function fakeHostKey(seed: string): string {
  const type = Buffer.from("ssh-ed25519");
  const key = createHash("sha256").update(seed).digest();
  const blob = Buffer.alloc(4 + type.length + 4 + key.length);
  blob.writeUInt32BE(type.length, 0);
  type.copy(blob, 4);
  blob.writeUInt32BE(key.length, 4 + type.length);
  key.copy(blob, 8 + type.length);
  return `ssh-ed25519 ${blob.toString("base64")}`;
}

const SHA = (c: string) => c.repeat(64);

/** A valid config for a two-site stack, as parsed objects; tests break one thing at a time. */
export function validConfig(): Record<string, unknown> {
  const host = (name: string, address: string, role: string, size: unknown = "4c8g") => ({
    name,
    address,
    role,
    size,
    hostKey: fakeHostKey(name),
  });
  return {
    "edgefleet:region": "cn-east",
    "edgefleet:k3s": {
      version: "v1.34.2+k3s1",
      artifacts: {
        dir: "artifacts/k3s",
        k3s: { file: "k3s", sha256: SHA("a") },
        images: { file: "k3s-airgap-images-amd64.tar.zst", sha256: SHA("b") },
        wasmedgeShim: { file: "containerd-shim-wasmedge-v1", sha256: SHA("c") },
      },
    },
    "edgefleet:ssh": { user: "edgefleet", port: 22, privateKey: "[secret]" },
    "edgefleet:sites": [
      {
        name: "hub-a",
        profile: "logisticsHub",
        hosts: [
          host("a-s1", "192.0.2.11", "server"),
          host("a-s2", "192.0.2.12", "server"),
          host("a-s3", "192.0.2.13", "server"),
          host("a-a1", "192.0.2.21", "agent"),
          host("a-a2", "192.0.2.22", "agent"),
        ],
      },
      {
        name: "hub-b",
        profile: "retailCity",
        overrides: { tracker: { replicas: 4 } },
        hosts: [
          host("b-s1", "198.51.100.11", "server", "2c4g"),
          host("b-a1", "198.51.100.21", "agent", { cpu: 8, memory: "16Gi" }),
        ],
      },
    ],
    "edgefleet:upgrade": { agentBatchSize: 2 },
    "pulumi:disable-default-providers": ["*"],
  };
}

export const SECRET_KEYS = new Set(["edgefleet:ssh"]);

/** The problems validate() reports for `cfg`, as "path: problem | fix" lines; [] when it passes. */
export function problemsOf(cfg: Record<string, unknown>, secretKeys: ReadonlySet<string> = SECRET_KEYS): string[] {
  try {
    validate("test-stack", cfg, secretKeys);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map((p) => `${p.path}: ${p.problem} | ${p.fix}`);
  }
}
