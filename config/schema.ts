/**
 * The stack config, namespace `edgefleet`, as a zod schema, and the
 * normalized types the program consumes (StackSpec, SiteSpec, HostSpec).
 *
 * Layout, from a stack file (stacks/Pulumi.<stack>.yaml):
 *
 *   edgefleet:region: cn-east
 *   edgefleet:k3s:        { version, artifacts: { dir, k3s, images, wasmedgeShim } }
 *   edgefleet:ssh:        { user, port, privateKey (secret), bastion? }
 *   edgefleet:registry:   { mirrors: { <registry>: { endpoint: [url, ...] } } }   (optional)
 *   edgefleet:upgrade:    { agentBatchSize }                                   (optional)
 *   edgefleet:hostParallelism: 30                                              (optional; hosts per site preflighted and staged at once)
 *   edgefleet:gatekeeper: { version, sha256, file?, url? }                     (optional; default config/gatekeeperRelease.ts)
 *   edgefleet:allowedRegistries: [registry[/path], ...]                        (optional; beyond the site layer's own images)
 *   edgefleet:backupS3:   { endpoint, bucket, region?, insecure?, accessKey, secretKey } (secret; optional; sites' backup.s3)
 *   edgefleet:mqtt:       { plaintext?, ca?, devices?, ... }                   (optional; the region's default for MQTT sites)
 *   edgefleet:mqttSecrets: { ca?: { cert, key }, devicePasswords? }          (secret; optional; mqtt ca: stack, password: stack)
 *   edgefleet:lab:        { hosts, kwokNodes, bridgeCidr }                     (lab stack only)
 *   edgefleet:sites:
 *     - name: hub-sh
 *       profile: logisticsHub
 *       hosts:
 *         - { name: sh-s1, address: 192.0.2.11, role: server, size: 4c8g, hostKey: "ssh-ed25519 AAAA..." }
 *
 * Each host reads like a k0sctl host entry: where to reach it, what it is,
 * how big it is, and the SSH host key it must present. Messages written here
 * carry their own fix ("... Fix: ..."); config/validate.ts words the rest.
 * Cross-field rules (duplicates, server counts, capacity, secrets) live in
 * validate.ts, which needs the whole stack to judge them.
 */
import { SSH_USER } from "../lib/hostCommandRun";
import { z } from "zod";
import { K3S_SNAPSHOT_DEFAULTS, cronProblem } from "./etcdBackup";
import { imageRefProblem, parseImageRef, unpinnedReason } from "./image";
import { K3S_VERSION, K3S_VERSION_EXAMPLE } from "./k3sVersion";
import { PROFILE_NAMES, type ProfileName } from "./profiles";
import { parseCidr4, cidrContainsCidr, ipVersion } from "./net";
import { parseCpuMillis, parseMemoryMiB, parseQuantity } from "./quantity";
import { SIZE_CLASS_NAMES, type SizeClass, type SizeClassName } from "./sizeClasses";
import {
  GATEKEEPER_RELEASE,
  gatekeeperManifestFile,
  gatekeeperReleaseUrl,
  type GatekeeperReleaseSpec,
} from "../components/gatekeeperRelease";
import { DEVICE_NAME, DEVICE_TOPIC_ROOT, RESERVED_RABBIT_USERS } from "../components/render/rabbitmq";

export const NAMESPACE = "edgefleet";

/** The lab bridge must sit in the benchmarking range (RFC 2544), never in a routable one. */
export const LAB_RANGE = "198.18.0.0/15";

const show = (v: unknown): string => (typeof v === "string" ? JSON.stringify(v) : String(JSON.stringify(v) ?? v));

// A Kubernetes node name and K3s node-name: a DNS-1123 label keeps it valid everywhere it lands.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SHA256 = /^[a-f0-9]{64}$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const TAINT = /^([^=:\s]+)(?:=([^:\s]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/;
const HOST_KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"];

const dnsLabel = (what: string) =>
  z.string().regex(DNS_LABEL, {
    error: (iss) =>
      `${show(iss.input)} is not a valid ${what}. Fix: use lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit.`,
  });

const ipAddress = z.string().refine((a) => ipVersion(a) !== 0, {
  error: (iss) =>
    `${show(iss.input)} is not an IPv4 or IPv6 address. Fix: write the host's IP literal (for example 192.0.2.10); DNS names are not used so that a site needs no resolver to be reached.`,
});

const port = z.int().min(1).max(65535);

export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !LABEL_PREFIX.test(prefix))) return false;
  return LABEL_NAME.test(name);
}

const labels = z.record(z.string(), z.string()).superRefine((rec, ctx) => {
  for (const [k, v] of Object.entries(rec)) {
    if (!isLabelKey(k)) {
      ctx.addIssue({
        code: "custom",
        path: [k],
        message: `label key ${show(k)} is not a valid Kubernetes label key. Fix: use [prefix/]name with name of at most 63 characters of letters, digits, '-', '_' and '.'.`,
      });
    }
    if (v !== "" && !LABEL_NAME.test(v)) {
      ctx.addIssue({
        code: "custom",
        path: [k],
        message: `label value ${show(v)} is not a valid Kubernetes label value. Fix: at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit.`,
      });
    }
  }
});

export interface Taint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

const taint = z.string().transform((s, ctx): Taint => {
  const m = TAINT.exec(s);
  if (!m || !isLabelKey(m[1]) || (m[2] !== undefined && m[2] !== "" && !LABEL_NAME.test(m[2]))) {
    ctx.addIssue({
      code: "custom",
      input: s,
      message: `${show(s)} is not a taint. Fix: write key[=value]:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute (K3s's node-taint form), for example dedicated=gateway:NoSchedule.`,
    });
    return z.NEVER;
  }
  return m[2] !== undefined
    ? { key: m[1], value: m[2], effect: m[3] as Taint["effect"] }
    : { key: m[1], effect: m[3] as Taint["effect"] };
});

/** True when `key` is an OpenSSH public key line whose blob names the same key type. */
export function isSshPublicKey(key: string): boolean {
  const parts = key.trim().split(/\s+/);
  if (parts.length < 2 || !HOST_KEY_TYPES.includes(parts[0])) return false;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(parts[1])) return false;
  const blob = Buffer.from(parts[1], "base64");
  if (blob.length < 4) return false;
  const typeLen = blob.readUInt32BE(0);
  if (blob.length < 4 + typeLen || blob.subarray(4, 4 + typeLen).toString("latin1") !== parts[0]) return false;
  // ed25519: string type + string(32-byte key) = 4+11+4+32.
  return parts[0] !== "ssh-ed25519" || blob.length === 51;
}

const hostKey = z.string().refine(isSshPublicKey, {
  error: (iss) =>
    `${show(iss.input)} is not an SSH public host key. Fix: pin the host's key as one line "ssh-ed25519 AAAA..." without the host name ssh-keyscan puts in front: \`ssh-keyscan -t ed25519 <address> 2>/dev/null | cut -d' ' -f2-\` over a trusted path, or /etc/ssh/ssh_host_ed25519_key.pub read on the host.`,
});

/** A host's (or simulated node's) size: a named class or explicit capacity. */
export interface HostSize {
  /** The class name, or "custom" for explicit capacity. */
  name: SizeClassName | "custom";
  /** As declared, in infra/render/size.ts's SizeSpec form (class name or millicores/MiB). */
  spec: RawSize;
  /** The named class it is held to: its own, or for explicit capacity the one sizeClassFor picks. */
  sizeClass: SizeClassName;
  /** Capacity and the reservations K3s keeps on it (config/sizeClasses.ts; a custom size: customSizeClass). */
  class: SizeClass;
}

/**
 * Raw size as written: "2c4g" | "4c8g" | { cpu, memory }. Normalized later
 * (validate.ts) against SIZE_CLASSES; here only the shape and units.
 */
export type RawSize = SizeClassName | { cpuMillis: number; memoryMiB: number };

const SIZE_FIX = `Fix: use one of ${SIZE_CLASS_NAMES.join(", ")} or explicit capacity { cpu: 8, memory: 16Gi }.`;

const size = z.unknown().transform((v, ctx): RawSize => {
  if (typeof v === "string") {
    if ((SIZE_CLASS_NAMES as string[]).includes(v)) return v as SizeClassName;
    ctx.addIssue({
      code: "custom",
      input: v,
      message: `unknown size class ${show(v)}. ${SIZE_FIX}`,
    });
    return z.NEVER;
  }
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => k !== "cpu" && k !== "memory");
    const cpuMillis = typeof o.cpu === "number" || typeof o.cpu === "string" ? parseCpuMillis(o.cpu) : undefined;
    const memoryMiB =
      typeof o.memory === "string" || typeof o.memory === "number" ? parseMemoryMiB(o.memory) : undefined;
    if (extra.length > 0) {
      ctx.addIssue({
        code: "custom",
        input: v,
        message: `unknown key(s) ${extra.join(", ")} in an explicit size. ${SIZE_FIX}`,
      });
    }
    if (cpuMillis === undefined || cpuMillis < 1000) {
      ctx.addIssue({
        code: "custom",
        path: ["cpu"],
        input: o.cpu,
        message: `cpu ${show(o.cpu)} is not a CPU count of at least 1. Fix: give cores (4) or millicores ("4000m").`,
      });
    }
    if (memoryMiB === undefined || memoryMiB < 2048) {
      ctx.addIssue({
        code: "custom",
        path: ["memory"],
        input: o.memory,
        message: `memory ${show(o.memory)} is not a memory size of at least 2Gi. Fix: give a quantity such as "16Gi".`,
      });
    }
    if (extra.length > 0 || cpuMillis === undefined || memoryMiB === undefined || cpuMillis < 1000 || memoryMiB < 2048)
      return z.NEVER;
    // Whole millicores and MiB, rounded down: "16G" is 15258.79Mi, and a box is never bigger than it says.
    return { cpuMillis: Math.floor(cpuMillis), memoryMiB: Math.floor(memoryMiB) };
  }
  ctx.addIssue({
    code: "custom",
    input: v,
    message: `size ${show(v)} is neither a size class nor { cpu, memory }. ${SIZE_FIX}`,
  });
  return z.NEVER;
});

const cpuQuantity = z.union([z.string(), z.number()]).refine((q) => (parseCpuMillis(q) ?? -1) >= 0, {
  error: (iss) => `${show(iss.input)} is not a CPU quantity. Fix: write millicores ("200m") or cores ("1").`,
});
/** Whole bytes: the API server takes "128m" as 0.128 bytes, never what was meant. */
const memoryQuantity = z.string().refine(
  (q) => {
    const bytes = parseQuantity(q);
    return bytes !== undefined && bytes >= 0 && Number.isInteger(bytes);
  },
  {
    error: (iss) =>
      `${show(iss.input)} is not a memory quantity in whole bytes. Fix: write a quantity with a binary suffix, such as "256Mi" or "1Gi" (a lower-case m means milli).`,
  },
);
const resourceList = z.strictObject({
  cpu: cpuQuantity.optional(),
  memory: memoryQuantity.optional(),
});

const IMAGE_FIX =
  "Fix: give a version tag or a digest (registry.example.com/tracker:1.4.2 or ...@sha256:<64 hex>), never :latest or no tag.";

/** An image reference (config/image.ts) pinned by tag or digest; `:latest` and untagged images drift between sites. */
const image = z.string().superRefine((s, ctx) => {
  const problem = imageRefProblem(s);
  const reason = problem === undefined ? unpinnedReason(parseImageRef(s)) : undefined;
  if (problem !== undefined || reason !== undefined) {
    ctx.addIssue({
      code: "custom",
      input: s,
      message:
        problem !== undefined
          ? `image ${show(s)} is not a valid image reference: ${problem}. ${IMAGE_FIX}`
          : `image ${show(s)} is not pinned: ${reason}. ${IMAGE_FIX}`,
    });
  }
});

/**
 * A site's `overrides:` block of the stack file: what an operator may change,
 * in the stack file's words (quantities as strings, an image as one
 * reference). It is not a second overrides type: config/siteLayer.ts turns it
 * into the site layer's SiteOverrides (components/render/site.ts), the one
 * type that says what a site can be told to change.
 */
export const OverridesSchema = z.strictObject({
  storage: z
    .strictObject({
      /** emptyDir instead of PersistentVolumeClaims, for clusters with no storage provisioner. */
      ephemeral: z.boolean().optional(),
    })
    .optional(),
  tracker: z
    .strictObject({
      // At least one: the tracker Deployment's replicas are its HPA's floor, and a site without one serves nothing.
      replicas: z.int().min(1).optional(),
      image: image.optional(),
      resources: z
        .strictObject({
          requests: resourceList.optional(),
          limits: resourceList.optional(),
        })
        .optional(),
    })
    .optional(),
  monitoring: z
    .strictObject({
      /** Prometheus in agent mode, remote-writing to a central store instead of keeping local TSDB. */
      agentMode: z.boolean().optional(),
      remoteWriteUrl: z.url({ protocol: /^https?$/ }).optional(),
    })
    .optional(),
  gatekeeper: z
    .strictObject({
      replicas: z.int().min(1).max(5).optional(),
      failurePolicy: z.enum(["Ignore", "Fail"]).optional(),
      /**
       * false: install Gatekeeper and the templates but no Constraints, for
       * clusters where Gatekeeper's controller cannot run (simulated nodes)
       * and so never creates the Constraint kinds.
       */
      constraints: z.boolean().optional(),
    })
    .optional(),
});

/**
 * A site's etcd snapshots (K3s's etcd-snapshot-* keys): embedded-etcd sites
 * only (validate() refuses the rest). Without it K3s keeps its own defaults
 * (K3S_SNAPSHOT_DEFAULTS, local disk). README "Backups and restore".
 */
export const BackupSchema = z.strictObject({
  /** @default K3S_SNAPSHOT_DEFAULTS.schedule ("0 *\/12 * * *", 00:00 and 12:00 host time) */
  schedule: z
    .string()
    .superRefine((s, ctx) => {
      const problem = cronProblem(s);
      if (problem)
        ctx.addIssue({
          code: "custom",
          input: s,
          message: `${problem}. Fix: write a cron schedule as K3s reads it: five fields, minute hour day-of-month month day-of-week (for example "0 */6 * * *", every six hours), or @daily, @hourly, @every 6h.`,
        });
    })
    .default(K3S_SNAPSHOT_DEFAULTS.schedule),
  /** Snapshots kept per server, on disk and (separately) in S3. @default K3S_SNAPSHOT_DEFAULTS.retention (5) */
  retention: z
    .int({
      error: (iss) =>
        `${show(iss.input)} is not a whole number. Fix: set retention to how many snapshots each server keeps, for example 5.`,
    })
    .min(1, {
      error: (iss) =>
        `${show(iss.input)} keeps no snapshot. Fix: set retention to 1 or more (K3s's default is ${K3S_SNAPSHOT_DEFAULTS.retention}).`,
    })
    .default(K3S_SNAPSHOT_DEFAULTS.retention),
  /** Zip each snapshot (etcd-snapshot-compress). @default false */
  compress: z.boolean().default(false),
  /** Also upload each snapshot to the stack's edgefleet:backupS3 target. @default false */
  s3: z.boolean().default(false),
  /** Folder in the bucket. @default "<region>/<site>" */
  s3Folder: z
    .string()
    .regex(/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/, {
      error: (iss) =>
        `${show(iss.input)} is not an S3 folder. Fix: use path segments of letters, digits and !_.*'()- separated by "/", without a leading or trailing "/".`,
    })
    .optional(),
});

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

/** A device's RabbitMQ user name, which is also its MQTT client id and its topic word (devices/<name>/...). */
const deviceName = z.string().superRefine((n, ctx) => {
  if (!DEVICE_NAME.test(n))
    ctx.addIssue({
      code: "custom",
      input: n,
      message: `${show(n)} is not a valid device name. Fix: use lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit (it becomes the device's user, client id and topic ${DEVICE_TOPIC_ROOT}/<name>/).`,
    });
  else if ((RESERVED_RABBIT_USERS as readonly string[]).includes(n))
    ctx.addIssue({
      code: "custom",
      input: n,
      message: `${show(n)} is a user the broker keeps for itself. Fix: name the device otherwise, for example ${n}-1.`,
    });
});

/**
 * A device as the stack lists it: its name alone (a generated password), or
 * { name, password: generated | stack, generation }. README "MQTT devices".
 */
const mqttDeviceObject = z.strictObject({
  name: deviceName,
  /**
   * generated: made once and kept in state (a secret); stack: taken from
   * edgefleet:mqttSecrets.devicePasswords.<site>.<name>.
   * @default "generated"
   */
  password: z
    .enum(["generated", "stack"], {
      error: (iss) =>
        `${show(iss.input)} is not a password source. Fix: write generated (made and kept by Pulumi) or stack (set with pulumi config set --secret --path 'edgefleet:mqttSecrets.devicePasswords.<site>.<device>').`,
    })
    .default("generated"),
  /** Raise by one to rotate a generated password. @default 0 */
  generation: z
    .int({
      error: (iss) =>
        `${show(iss.input)} is not a whole number. Fix: set generation to 0, and raise it by one to rotate the device's password.`,
    })
    .min(0, { error: "must not be negative. Fix: set generation to 0 or more." })
    .default(0),
});

export const MqttDeviceSchema = z.unknown().transform((v, ctx) => {
  // A name alone is shorthand; its problems are reported at the entry itself, where the name is.
  const r = typeof v === "string" ? deviceName.safeParse(v) : mqttDeviceObject.safeParse(v);
  if (!r.success) {
    for (const issue of r.error.issues) ctx.addIssue({ ...issue, input: issue.input } as never);
    return z.NEVER;
  }
  return typeof r.data === "string"
    ? { name: r.data, password: "generated" as const, generation: 0 }
    : (r.data as z.output<typeof mqttDeviceObject>);
});

/**
 * The MQTT broker of a site whose profile runs MQTT (config/profiles.ts):
 * per site as `mqtt:`, or as the region's default `edgefleet:mqtt`, each
 * key of a site's block over the region's. TLS on 8883 is always on.
 * README "MQTT devices".
 */
export const MqttSchema = z.strictObject({
  /** Also plain MQTT on 1883 (NodePort 31883), unencrypted: only for devices that cannot do TLS. @default false */
  plaintext: z
    .boolean({
      error: (iss) =>
        `${show(iss.input)} is not true or false. Fix: leave plaintext out (TLS only), or set plaintext: true.`,
    })
    .optional(),
  /**
   * Who signs the broker's certificate: a CA made for the site (generated) or
   * the stack's CA in edgefleet:mqttSecrets.ca (stack).
   * @default "generated"
   */
  ca: z
    .enum(["generated", "stack"], {
      error: (iss) =>
        `${show(iss.input)} is not a CA source. Fix: write generated (a CA made for each site) or stack (your CA, set with pulumi config set --secret --path 'edgefleet:mqttSecrets.ca.cert' and '.key').`,
    })
    .optional(),
  /** Raise by one to replace a generated site CA (every device then needs the new CA certificate). @default 0 */
  caGeneration: z.int().min(0).optional(),
  /** Raise by one to re-issue the broker's certificate (a new key) under the same CA. @default 0 */
  certificateGeneration: z.int().min(0).optional(),
  /** DNS names devices reach the broker by, put in its certificate beside the Service names and node addresses. @default [] */
  serverNames: z
    .array(
      z.string().regex(DNS_NAME, {
        error: (iss) =>
          `${show(iss.input)} is not a DNS name. Fix: write a lower-case host name such as mqtt.site-1.example.com (node addresses are in the certificate already).`,
      }),
    )
    .optional(),
  /** The site's devices, each its own user. @default [] (nobody can log in over MQTT) */
  devices: z.array(MqttDeviceSchema).optional(),
});
export type RawMqtt = z.output<typeof MqttSchema>;

/** A secret string: messages about it never show the value. */
const secretText = (what: string, fix: string) =>
  z.unknown().superRefine((v, ctx) => {
    if (typeof v !== "string" || v.length === 0)
      ctx.addIssue({ code: "custom", message: `${what} is not a non-empty string. Fix: ${fix}` });
  }) as unknown as z.ZodType<string>;

const devicePassword = z.unknown().superRefine((v, ctx) => {
  if (typeof v !== "string" || !/^[A-Za-z0-9]{16,128}$/.test(v))
    ctx.addIssue({
      code: "custom",
      message:
        "the device password is not 16 to 128 letters and digits. Fix: set one such as `openssl rand -hex 16` prints, with pulumi config set --secret --path (letters and digits only: RabbitMQ definitions and URLs take them unquoted).",
    });
}) as unknown as z.ZodType<string>;

/**
 * The secret half of the MQTT settings, one secret key (validate() refuses it
 * in plain text): the stack's CA, and the passwords of devices listed with
 * password: stack.
 */
export const MqttSecretsSchema = z.strictObject({
  ca: z
    .strictObject({
      cert: secretText(
        "cert",
        "set the CA certificate's PEM: pulumi config set --secret --path 'edgefleet:mqttSecrets.ca.cert' < ca.crt.",
      ),
      key: secretText(
        "key",
        "set the CA's private key PEM: pulumi config set --secret --path 'edgefleet:mqttSecrets.ca.key' < ca.key.",
      ),
    })
    .optional(),
  /** <site>: { <device>: password }. */
  devicePasswords: z.record(dnsLabel("site name"), z.record(deviceName, devicePassword)).optional(),
});
export type RawMqttSecrets = z.output<typeof MqttSecretsSchema>;

// User names as the SSH runtime checks them again before ssh starts (lib/hostCommandRun.ts says why).
const sshUser = z.string().regex(SSH_USER, {
  error: (iss) =>
    `${show(iss.input)} is not a plain SSH user name. Fix: use a login name of lower-case letters, digits, "_", "." and "-" that does not start with "-" or a digit (for example edgefleet).`,
});

export const HostSchema = z.strictObject({
  name: dnsLabel("host name (it becomes the Kubernetes node name)"),
  address: ipAddress,
  /** SSH port; defaults to edgefleet:ssh.port. */
  port: port.optional(),
  /** SSH user; defaults to edgefleet:ssh.user. */
  user: sshUser.optional(),
  role: z.enum(["server", "agent"]),
  size,
  labels: labels.optional(),
  taints: z.array(taint).optional(),
  hostKey,
});
export type RawHost = z.output<typeof HostSchema>;

const profile = z.string().refine((p) => (PROFILE_NAMES as readonly string[]).includes(p), {
  error: (iss) => `unknown profile ${show(iss.input)}. Fix: use one of ${PROFILE_NAMES.join(", ")}.`,
});

export const SiteSchema = z.strictObject({
  name: dnsLabel("site name"),
  profile: profile.transform((p) => p as ProfileName),
  /** systemd units by K3s's conventions, or a supervised process for hosts without systemd (the lab). */
  serviceMode: z.enum(["systemd", "supervise"]).default("systemd"),
  /** Servers run no kubelet (K3s --disable-agent): for hosts that cannot run containerd. */
  disableAgentOnServers: z.boolean().default(false),
  /**
   * What runs the site's control plane: K3s (the product), or the upstream
   * Kubernetes control plane from edgefleet:upstream (one server, no agents),
   * for places without a K3s build at hand such as the lab.
   */
  distribution: z.enum(["k3s", "upstream"]).default("k3s"),
  /**
   * Raise by one to rotate the site's agent token (K3s sites): a new secret,
   * the servers' agent-token-file and then the agents' token files rewritten,
   * each host restarted in the upgrade order. README "Join tokens, and rotating the agent token".
   */
  agentTokenGeneration: z.int().min(0).default(0),
  /** Simulated edge nodes registered by KWOK (lab and scale runs). */
  kwok: z.strictObject({ nodes: z.int().min(0).max(2000), size: size.optional() }).optional(),
  overrides: OverridesSchema.default({}),
  hosts: z.array(HostSchema).min(1, {
    error: "a site has no hosts. Fix: list at least one host with role: server.",
  }),
  /**
   * Servers this change removes on purpose although `pulumi preview` would
   * refuse it (infra/serverSetGuard.ts): a majority of the site's servers at
   * once (3 -> 1), its last one (the cluster is rebuilt from nothing), or a
   * server without a kubelet whose etcd member was removed by hand. Names of
   * servers no longer in hosts; README "Remove a server".
   * @default []
   */
  acknowledgeServerRemoval: z.array(dnsLabel("server name")).default([]),
  /** Scheduled etcd snapshots (embedded-etcd sites). @default none (K3s's own defaults) */
  backup: BackupSchema.optional(),
  /** The site's MQTT broker (MQTT profiles only), over edgefleet:mqtt. @default edgefleet:mqtt, else TLS only with a generated CA and no devices */
  mqtt: MqttSchema.optional(),
});
export type RawSite = z.output<typeof SiteSchema>;

const artifact = z.strictObject({
  file: z.string().regex(/^[^/\\]+$/, {
    error: (iss) =>
      `${show(iss.input)} is not a file name. Fix: give the file's name inside artifacts.dir, without a directory.`,
  }),
  sha256: z.string().regex(SHA256, {
    error: (iss) =>
      `${show(iss.input)} is not a sha256 checksum. Fix: give 64 lower-case hex characters, as printed by \`sha256sum <file>\`.`,
  }),
});

/** The architectures K3s publishes air-gap artifacts for (preflight.sh maps `uname -m` onto them). */
export const K3S_ARCHES = ["amd64", "arm64", "arm"] as const;
export type K3sArch = (typeof K3S_ARCHES)[number];

export const K3sSchema = z
  .strictObject({
    version: z.string().regex(K3S_VERSION, {
      error: (iss) =>
        `${show(iss.input)} is not a K3s release version. Fix: write it as K3s tags releases, for example ${K3S_VERSION_EXAMPLE}.`,
    }),
    /**
     * The architecture the artifacts are built for; preflight refuses a host of
     * another before anything is installed.
     * @default "amd64"
     */
    arch: z.enum(K3S_ARCHES).default("amd64"),
    artifacts: z.strictObject({
      /** Local folder holding the air-gap artifacts, relative to the project root. */
      dir: z.string().min(1),
      k3s: artifact,
      images: artifact,
      wasmedgeShim: artifact,
    }),
  })
  .superRefine((k, ctx) => {
    // K3s names its image tarballs by architecture (k3s-airgap-images-<arch>.tar.*).
    const named = /k3s-airgap-images-(amd64|arm64|arm)\./.exec(k.artifacts.images.file)?.[1];
    if (named && named !== k.arch) {
      ctx.addIssue({
        code: "custom",
        path: ["arch"],
        input: k.arch,
        message: `is ${k.arch}, but the images tarball ${k.artifacts.images.file} is for ${named}. Fix: set edgefleet:k3s.arch to ${named}, or point the artifacts at the ${k.arch} release files.`,
      });
    }
  });

const UPSTREAM_VERSION = /^v1\.(\d+)\.(\d+)$/;

/** The upstream control plane's binaries (sites with distribution: upstream) and KWOK's. */
export const UpstreamSchema = z.strictObject({
  version: z.string().regex(UPSTREAM_VERSION, {
    error: (iss) => `${show(iss.input)} is not a Kubernetes release version. Fix: write it as v1.35.4.`,
  }),
  artifacts: z.strictObject({
    /** Local folder holding the binaries, relative to the project root. */
    dir: z.string().min(1),
    etcd: artifact,
    kubeApiserver: artifact,
    kubeControllerManager: artifact,
    kubeScheduler: artifact,
    kubectl: artifact,
    /** KWOK and its stages, for sites with simulated nodes. */
    kwok: artifact.optional(),
    kwokStages: artifact.optional(),
  }),
});
export type UpstreamSpec = z.output<typeof UpstreamSchema>;

const bastion = z.strictObject({
  address: ipAddress,
  port: port.default(22),
  user: sshUser.optional(),
  hostKey,
});

export const SshSchema = z.strictObject({
  user: sshUser,
  port: port.default(22),
  /** OpenSSH private key; must be set with `pulumi config set --secret --path edgefleet:ssh.privateKey`. */
  privateKey: z.string().min(1),
  bastion: bastion.optional(),
});

const registryHost = z.string().regex(/^(\*|[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d+)?)$/, {
  error: (iss) =>
    `${show(iss.input)} is not a registry host. Fix: use a host[:port] such as docker.io or registry.example.com:5000, or "*".`,
});

/**
 * Mirrors as K3s's registries.yaml writes them (`mirrors.<registry>.endpoint`,
 * optional `rewrite`): images for <registry> are pulled from the endpoints, so
 * air-gapped sites pull from a site or regional mirror. Credentials are not
 * taken here: they would be plain config.
 */
export const RegistrySchema = z.strictObject({
  mirrors: z.record(
    registryHost,
    z.strictObject({
      endpoint: z.array(z.url({ protocol: /^https?$/ })).min(1),
      rewrite: z.record(z.string(), z.string()).optional(),
    }),
  ),
});

/**
 * The Gatekeeper release manifest (config/gatekeeperRelease.ts). A stack that
 * pins another version gives its sha256 too; file and url default from the version.
 */
export const GatekeeperSchema = z
  .strictObject({
    version: z.string().regex(/^\d+\.\d+\.\d+$/, {
      error: (iss) => `${show(iss.input)} is not a Gatekeeper release version. Fix: write it as 3.23.1 (no "v").`,
    }),
    sha256: z
      .string()
      .regex(SHA256, {
        error: (iss) =>
          `${show(iss.input)} is not a sha256 checksum. Fix: give 64 lower-case hex characters, as printed by \`sha256sum gatekeeper.yaml\`.`,
      })
      .optional(),
    file: z.string().min(1).optional(),
    url: z.url({ protocol: /^https?$/ }).optional(),
  })
  .refine((g) => g.sha256 !== undefined || g.version === GATEKEEPER_RELEASE.version, {
    path: ["sha256"],
    error: (iss) =>
      `is missing for Gatekeeper ${(iss.input as { version: string }).version}. Fix: set edgefleet:gatekeeper.sha256 to the sha256 of that release's deploy/gatekeeper.yaml.`,
  });

/** The release a stack installs: its own setting over the defaults. */
export function gatekeeperRelease(g: z.output<typeof GatekeeperSchema> | undefined): GatekeeperReleaseSpec {
  if (!g) return GATEKEEPER_RELEASE;
  return {
    version: g.version,
    sha256: g.sha256 ?? GATEKEEPER_RELEASE.sha256,
    file: g.file ?? gatekeeperManifestFile(g.version),
    url: g.url ?? gatekeeperReleaseUrl(g.version),
  };
}

/**
 * Registries (or registry/path prefixes) the stack's own images may come
 * from, beyond the site layer's (components/images.ts): both policy engines
 * admit exactly these plus those, and validate() refuses a tracker image from
 * anywhere else. @default [] (the site layer's images only)
 */
export const AllowedRegistriesSchema = z.array(
  z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d+)?(\/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*$/, {
    error: (iss) =>
      `${show(iss.input)} is not a registry or registry/path prefix. Fix: write a host[:port], optionally with a path, such as registry.example.com or registry.example.com:5000/edge.`,
  }),
);

/**
 * The S3-compatible store that sites with backup.s3 upload their snapshots
 * to. The whole key is a secret (validate() refuses it otherwise): set
 * secretKey (and accessKey) with `pulumi config set --secret --path`. The
 * credentials reach the servers only through a root-only config drop-in
 * (config/etcdBackup.ts ETCD_S3_CREDENTIALS_FILE), never config.yaml.
 */
export const BackupS3Schema = z.strictObject({
  /** host[:port], as K3s's etcd-s3-endpoint takes it (no scheme). @default none (required) */
  endpoint: z.string().regex(/^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:\d{1,5})?$/, {
    error: (iss) =>
      `${show(iss.input)} is not an S3 endpoint. Fix: give host[:port] without a scheme, for example s3.cn-east.example.com or minio.example.com:9000 (set insecure: true for plain http).`,
  }),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
    error: (iss) =>
      `${show(iss.input)} is not an S3 bucket name. Fix: 3-63 lower-case letters, digits, "." and "-", starting and ending with a letter or digit.`,
  }),
  /** @default K3s's us-east-1 */
  region: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .optional(),
  /** Plain http to the endpoint (etcd-s3-insecure). @default false */
  insecure: z.boolean().default(false),
  accessKey: z.string().min(1),
  secretKey: z.string().min(1),
});

export const UpgradeSchema = z.strictObject({
  agentBatchSize: z.int().min(1).default(1),
});

export const LabSchema = z.strictObject({
  /** Lab hosts (network namespaces with sshd) the lab script creates. */
  hosts: z.int().min(1).max(64),
  /** Simulated edge nodes in total; must equal the sum of the sites' kwok.nodes. */
  kwokNodes: z.int().min(0).max(2000),
  bridgeCidr: z.cidrv4().refine(
    (c) => {
      const inner = parseCidr4(c);
      const outer = parseCidr4(LAB_RANGE);
      return inner !== undefined && outer !== undefined && cidrContainsCidr(outer, inner);
    },
    {
      error: (iss) =>
        `${show(iss.input)} is outside ${LAB_RANGE}. Fix: pick a block inside ${LAB_RANGE} (for example 198.18.0.0/24), the range reserved for lab networks.`,
    },
  ),
});

/**
 * Who carries the host layer's steps and makes its generated secrets:
 * `@pulumi/command` and `@pulumi/random` ("command"), or the built-in
 * OpenSSH transport ("openssh"), which needs no plugin. The built-in one
 * stays the default for now: with "command" every upload is a CopyToRemote
 * whose file the engine hashes at every preview, per host, so a preview needs
 * the air-gap artifacts on the previewing machine (the example stacks and
 * most PR runners have none) — README "Host transports". infra/hostStep.ts
 * has the contract both keep.
 */
export const HOST_TRANSPORTS = ["command", "openssh"] as const;
export type HostTransport = (typeof HOST_TRANSPORTS)[number];

/** As k0sctl's --concurrency default. */
export const DEFAULT_HOST_PARALLELISM = 30;

/**
 * Hosts of one site whose preflight and artifact staging run at once; the
 * install chain keeps its upgrade order whatever this says. Region-wide, the
 * engine's own `pulumi up --parallel` bounds every operation.
 * @default DEFAULT_HOST_PARALLELISM (30)
 */
export const HostParallelismSchema = z
  .int({
    error: (iss) =>
      `${show(iss.input)} is not a whole number. Fix: set it to how many hosts of a site may be preflighted and staged at once, for example 30.`,
  })
  .min(1, { error: "must be at least 1. Fix: set it to 1 (one host at a time) or more." });

export const StackConfigSchema = z.strictObject({
  [`${NAMESPACE}:region`]: dnsLabel("region name"),
  /** @default "openssh" */
  [`${NAMESPACE}:hostTransport`]: z.enum(HOST_TRANSPORTS).default("openssh"),
  [`${NAMESPACE}:k3s`]: K3sSchema.optional(),
  [`${NAMESPACE}:upstream`]: UpstreamSchema.optional(),
  [`${NAMESPACE}:ssh`]: SshSchema,
  [`${NAMESPACE}:registry`]: RegistrySchema.optional(),
  [`${NAMESPACE}:sites`]: z.array(SiteSchema).min(1, {
    error: "the stack has no sites. Fix: add at least one site under edgefleet:sites.",
  }),
  [`${NAMESPACE}:upgrade`]: UpgradeSchema.default({ agentBatchSize: 1 }),
  [`${NAMESPACE}:hostParallelism`]: HostParallelismSchema.default(DEFAULT_HOST_PARALLELISM),
  [`${NAMESPACE}:gatekeeper`]: GatekeeperSchema.optional(),
  [`${NAMESPACE}:allowedRegistries`]: AllowedRegistriesSchema.default([]),
  [`${NAMESPACE}:backupS3`]: BackupS3Schema.optional(),
  [`${NAMESPACE}:mqtt`]: MqttSchema.optional(),
  [`${NAMESPACE}:mqttSecrets`]: MqttSecretsSchema.optional(),
  [`${NAMESPACE}:lab`]: LabSchema.optional(),
});
export type RawStackConfig = z.output<typeof StackConfigSchema>;

// ---------------------------------------------------------------------------
// Normalized types: what infra/ and components/ consume. Defaults applied,
// host SSH settings resolved, sizes resolved to size classes.

export interface ArtifactSpec {
  file: string;
  sha256: string;
}

export interface K3sSpec {
  version: string;
  arch: K3sArch;
  artifacts: {
    dir: string;
    k3s: ArtifactSpec;
    images: ArtifactSpec;
    wasmedgeShim: ArtifactSpec;
  };
}

export interface BastionSpec {
  address: string;
  port: number;
  user: string;
  hostKey: string;
}

export interface SshSpec {
  user: string;
  port: number;
  /** Plain text of a value the caller must wrap with pulumi.secret() before it reaches a resource. */
  privateKey: string;
  bastion?: BastionSpec;
}

export interface HostSpec {
  name: string;
  address: string;
  /** Resolved: the host's port or edgefleet:ssh.port. */
  port: number;
  /** Resolved: the host's user or edgefleet:ssh.user. */
  user: string;
  role: "server" | "agent";
  size: HostSize;
  labels: Record<string, string>;
  taints: Taint[];
  /** Pinned SSH public host key, one OpenSSH line. */
  hostKey: string;
}

/** A site's etcd snapshots, defaults applied. */
export interface BackupSpec {
  schedule: string;
  retention: number;
  compress: boolean;
  /** Present when snapshots are uploaded to the stack's edgefleet:backupS3. */
  s3?: { folder: string };
}

/** edgefleet:backupS3. accessKey and secretKey are plain text the caller must keep secret (pulumi.secret). */
export interface BackupS3Spec {
  endpoint: string;
  bucket: string;
  region?: string;
  insecure: boolean;
  accessKey: string;
  secretKey: string;
}

/** A site's MQTT broker, the region's default and the site's own merged. */
export interface MqttSpec {
  plaintext: boolean;
  ca: "generated" | "stack";
  caGeneration: number;
  certificateGeneration: number;
  serverNames: string[];
  devices: { name: string; password: "generated" | "stack"; generation: number }[];
}

/** edgefleet:mqttSecrets: plain text the caller must keep secret (pulumi.secret). */
export interface MqttSecretsSpec {
  ca?: { cert: string; key: string };
  /** <site>: { <device>: password }. */
  devicePasswords: Record<string, Record<string, string>>;
}

export interface KwokSpec {
  nodes: number;
  size: HostSize;
}

export interface SiteSpec {
  name: string;
  distribution: "k3s" | "upstream";
  profile: ProfileName;
  serviceMode: "systemd" | "supervise";
  disableAgentOnServers: boolean;
  /** Raised by one to rotate the site's agent token. */
  agentTokenGeneration: number;
  kwok?: KwokSpec;
  /** The stack file's overrides block, as written (OverridesSchema); siteLayerArgs turns it into SiteOverrides. */
  overrides: z.output<typeof OverridesSchema>;
  /** In inventory order. */
  hosts: HostSpec[];
  /** Servers whose removal the stack acknowledges (infra/serverSetGuard.ts). */
  acknowledgeServerRemoval: string[];
  /** Scheduled etcd snapshots; absent = K3s's defaults. */
  backup?: BackupSpec;
  /** Present where the profile runs MQTT. */
  mqtt?: MqttSpec;
}

/** Shaped like infra/render/registries.ts's RegistriesArgs.mirrors. */
export interface RegistrySpec {
  mirrors: Record<string, { endpoints: string[]; rewrite?: Record<string, string> }>;
}

export interface LabSpec {
  hosts: number;
  kwokNodes: number;
  bridgeCidr: string;
}

export interface StackSpec {
  /** The Pulumi stack name. */
  stack: string;
  region: string;
  /** Present when a site runs K3s. */
  k3s?: K3sSpec;
  /** Present when a site runs the upstream control plane. */
  upstream?: UpstreamSpec;
  ssh: SshSpec;
  registry?: RegistrySpec;
  upgrade: { agentBatchSize: number };
  /** Hosts per site preflighted and staged at once (edgefleet:hostParallelism). */
  hostParallelism: number;
  /** Who carries host steps and makes generated secrets (edgefleet:hostTransport). */
  hostTransport: HostTransport;
  /** The Gatekeeper release manifest every site installs. */
  gatekeeper: GatekeeperReleaseSpec;
  /** Registries (or registry/path prefixes) admitted beyond the site layer's own images. */
  allowedRegistries: string[];
  /** The S3 target of sites with backup.s3 (edgefleet:backupS3). */
  backupS3?: BackupS3Spec;
  /** The stack's CA and given device passwords (edgefleet:mqttSecrets). */
  mqttSecrets?: MqttSecretsSpec;
  sites: SiteSpec[];
  lab?: LabSpec;
}
