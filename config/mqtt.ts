/**
 * The MQTT settings of a validated stack: the region's default
 * (edgefleet:mqtt) and each site's own block merged, and the rules that need
 * the whole stack (which profiles run MQTT, where a stack CA or a device's
 * given password must be, whether they are secret). Pure: no I/O.
 */
import { caProblem } from "../lib/x509";
import { PROFILES, type ProfileName } from "./profiles";
import { NAMESPACE, type MqttSecretsSpec, type MqttSpec, type RawMqtt, type RawStackConfig } from "./schema";
import type { ConfigProblem } from "./validate";

export const MQTT_KEY = `${NAMESPACE}:mqtt`;
export const MQTT_SECRETS_KEY = `${NAMESPACE}:mqttSecrets`;

/** True where the site's profile runs RabbitMQ with its MQTT plugin. */
export function profileRunsMqtt(profile: ProfileName): boolean {
  return PROFILES[profile].extras.rabbitmq?.mqtt === true;
}

/** The site's settings over the region's, defaults applied. */
export function mqttSpec(region: RawMqtt | undefined, site: RawMqtt | undefined): MqttSpec {
  const pick = <K extends keyof RawMqtt>(k: K): RawMqtt[K] => (site?.[k] !== undefined ? site[k] : region?.[k]);
  return {
    plaintext: pick("plaintext") ?? false,
    ca: pick("ca") ?? "generated",
    caGeneration: pick("caGeneration") ?? 0,
    certificateGeneration: pick("certificateGeneration") ?? 0,
    serverNames: pick("serverNames") ?? [],
    devices: pick("devices") ?? [],
  };
}

export function mqttSecretsSpec(raw: RawStackConfig[typeof MQTT_SECRETS_KEY]): MqttSecretsSpec | undefined {
  if (!raw) return undefined;
  return { ...(raw.ca ? { ca: raw.ca } : {}), devicePasswords: raw.devicePasswords ?? {} };
}

const setSecret = (path: string, what: string) => `pulumi config set --secret --path '${path}' ${what}`;

/** The plain-text check: run on the raw config, whether or not it parsed. */
export function checkMqttSecretsAreSecret(
  ours: Record<string, unknown>,
  secretKeys: ReadonlySet<string>,
  problems: ConfigProblem[],
): void {
  const v = ours[MQTT_SECRETS_KEY];
  if (v !== undefined && !secretKeys.has(MQTT_SECRETS_KEY)) {
    problems.push({
      path: MQTT_SECRETS_KEY,
      problem: "the MQTT CA key and device passwords are stored in plain text in the stack config",
      fix: `remove ${MQTT_SECRETS_KEY} from the stack file and set each value as a secret: ${setSecret(`${MQTT_SECRETS_KEY}.ca.key`, "< ca.key")} (and .ca.cert, .devicePasswords.<site>.<device>).`,
    });
  }
}

/** Cross-key MQTT rules on a parsed stack. */
export function checkMqtt(cfg: RawStackConfig, problems: ConfigProblem[]): void {
  const region = cfg[MQTT_KEY];
  const secrets = cfg[MQTT_SECRETS_KEY];
  const sites = cfg[`${NAMESPACE}:sites`];
  const stackCaUsers: string[] = [];
  sites.forEach((site, i) => {
    const at = `${NAMESPACE}:sites[${i}]`;
    if (!profileRunsMqtt(site.profile)) {
      if (site.mqtt)
        problems.push({
          path: `${at}.mqtt`,
          problem: `site ${site.name}'s profile ${site.profile} runs no MQTT broker`,
          fix: `remove mqtt from the site, or give it an MQTT profile (${Object.values(PROFILES)
            .filter((p) => profileRunsMqtt(p.name))
            .map((p) => p.name)
            .join(", ")}).`,
        });
      return;
    }
    const spec = mqttSpec(region, site.mqtt);
    const devicesAt = site.mqtt?.devices !== undefined ? `${at}.mqtt.devices` : `${MQTT_KEY}.devices`;
    const seen = new Set<string>();
    spec.devices.forEach((d, k) => {
      if (seen.has(d.name))
        problems.push({
          path: `${devicesAt}[${k}]`,
          problem: `device ${d.name} is listed twice for site ${site.name}`,
          fix: "list each device once: every device is one broker user.",
        });
      seen.add(d.name);
      if (d.password === "stack" && secrets?.devicePasswords?.[site.name]?.[d.name] === undefined)
        problems.push({
          path: `${devicesAt}[${k}].password`,
          problem: `device ${d.name} of site ${site.name} takes its password from the stack, which has none for it`,
          fix: `${setSecret(`${MQTT_SECRETS_KEY}.devicePasswords.${site.name}.${d.name}`, "<16+ letters and digits>")}, or set password: generated.`,
        });
    });
    for (const device of Object.keys(secrets?.devicePasswords?.[site.name] ?? {})) {
      const listed = spec.devices.find((d) => d.name === device);
      if (!listed || listed.password !== "stack")
        problems.push({
          path: `${MQTT_SECRETS_KEY}.devicePasswords.${site.name}.${device}`,
          problem: `a password is set for device ${device} of site ${site.name}, which ${listed ? "generates its own (password: generated)" : "does not list it"}`,
          fix: listed
            ? `set password: stack on the device to use it, or remove it: pulumi config rm --path '${MQTT_SECRETS_KEY}.devicePasswords.${site.name}.${device}'.`
            : `add { name: ${device}, password: stack } to the site's mqtt.devices, or remove it: pulumi config rm --path '${MQTT_SECRETS_KEY}.devicePasswords.${site.name}.${device}'.`,
        });
    }
    if (spec.ca === "stack") stackCaUsers.push(site.name);
  });
  for (const name of Object.keys(secrets?.devicePasswords ?? {})) {
    if (!sites.some((s) => s.name === name))
      problems.push({
        path: `${MQTT_SECRETS_KEY}.devicePasswords.${name}`,
        problem: `device passwords are set for site ${name}, which the stack does not have`,
        fix: `correct the site name, or remove them: pulumi config rm --path '${MQTT_SECRETS_KEY}.devicePasswords.${name}'.`,
      });
  }
  if (stackCaUsers.length > 0 && !secrets?.ca) {
    problems.push({
      path: `${MQTT_SECRETS_KEY}.ca`,
      problem: `site(s) ${stackCaUsers.join(", ")} use the stack's CA (mqtt ca: stack), but the stack has none`,
      fix: `${setSecret(`${MQTT_SECRETS_KEY}.ca.cert`, "< ca.crt")} and ${setSecret(`${MQTT_SECRETS_KEY}.ca.key`, "< ca.key")} (an RSA CA: basicConstraints CA:TRUE), or use ca: generated.`,
    });
  }
  if (secrets?.ca) {
    const why = caProblem(secrets.ca);
    if (why)
      problems.push({
        path: `${MQTT_SECRETS_KEY}.ca`,
        problem: `the stack's MQTT CA cannot sign the brokers' certificates: ${why}`,
        fix: `set the PEM of an RSA CA certificate (basicConstraints CA:TRUE, valid now) and its unencrypted private key: ${setSecret(`${MQTT_SECRETS_KEY}.ca.cert`, "< ca.crt")} and ${setSecret(`${MQTT_SECRETS_KEY}.ca.key`, "< ca.key")}.`,
      });
    else if (stackCaUsers.length === 0)
      problems.push({
        path: `${MQTT_SECRETS_KEY}.ca`,
        problem: "the stack has an MQTT CA but no MQTT site uses it",
        fix: `set ca: stack in ${MQTT_KEY} (or a site's mqtt), or remove it: pulumi config rm --path '${MQTT_SECRETS_KEY}.ca'.`,
      });
  }
}
