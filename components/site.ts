import type { HostTransport } from "../config/schema";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { SiteNode } from "../config/edgeNodes";
import { pinnedImage, type ImageRef } from "../config/image";
import { getProfile, type ProfileName } from "../config/profiles";
import { Gatekeeper } from "./gatekeeper";
import { Grafana } from "./grafana";
import { childOptions } from "./k8sOptions";
import { LogShipper } from "./logShipper";
import { Loki } from "./loki";
import { OpaServer } from "./opaServer";
import { Prometheus } from "./prometheus";
import { type MqttEndpoint, RabbitMQ, RABBITMQ_APP_SECRET, type RabbitMqttArgs } from "./rabbitmq";
import { Redis } from "./redis";
import { grafanaPeer } from "./render/grafana";
import { logShipperPeer } from "./render/logShipper";
import { lokiUrl } from "./render/loki";
import { OPA_PORT } from "./render/opa";
import { REDIS_AUTH_SECRET } from "./render/redis";
import { prometheusRules, prometheusTargets, resolveSite, ResolvedSite, SiteOverrides } from "./render/site";
import { Tracker } from "./tracker";
import { WasmEdgeRuntimeClass } from "./wasmEdgeRuntimeClass";

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface SiteArgs {
  provider: k8s.Provider;
  /** Site name (stack); labels every object and Prometheus's external labels. */
  site: string;
  profile: ProfileName;
  /**
   * The nodes of this site's cluster, with their labels, taints and
   * allocatable (config/edgeNodes.ts siteNodes): where trackers and the
   * platform fit is judged on them.
   * @default `edgeNodes` uniform nodes of the profile's size class (config/edgeNodes.ts uniformEdgeNodes)
   */
  nodes?: SiteNode[];
  /** Without `nodes`: this many edge nodes of the profile's size class, holding the platform too. @default 1 */
  edgeNodes?: number;
  /** Tracker image (config/image.ts): `${registry}/${repository}:${tag}` or `@sha256:...`; never `latest`. */
  trackerImage: ImageRef;
  /**
   * Changes over the profile's preset (components/render/site.ts lists each one's default).
   * @default {} (the profile's preset as it is)
   */
  overrides?: SiteOverrides;
  gatekeeper: {
    /** Path of upstream's deploy/gatekeeper.yaml of the release (components/gatekeeperRelease.ts), checked against its pin. */
    manifestPath: string;
    /** That release's version tag, e.g. "v3.23.1". @default GATEKEEPER_VERSION */
    version?: string;
    templates: Record<string, any>[];
    constraints: Record<string, any>[];
    /** ExpansionTemplates (policies/gatekeeper/expansion/). @default [] (none installed) */
    expansions?: Record<string, any>[];
    /** false where Gatekeeper's controller cannot run: templates are applied without waiting. @default true */
    awaitTemplates?: boolean;
  };
  /** Rego of the application authorization policy (policies/authz/); required when the profile has authz. */
  authzPolicyRego?: string;
  /** Namespace of the trackers and their backing services. @default "edgefleet" */
  appNamespace?: string;
  /** Namespace of Prometheus, Grafana, Loki and the log shipper. @default "edgefleet-monitoring" */
  monitoringNamespace?: string;
  /** emptyDir instead of PersistentVolumeClaims (clusters without a storage provisioner). @default false */
  ephemeralStorage?: boolean;
  /** Who makes the site's generated passwords (edgefleet:hostTransport). @default "openssh" */
  secrets?: HostTransport;
  /**
   * The MQTT broker's devices and certificate, where the profile runs MQTT.
   * @default TLS only, a CA generated for the site, no devices
   */
  mqtt?: RabbitMqttArgs & {
    /** Plain MQTT on 1883 too. @default false */
    plaintext?: boolean;
  };
}

/** One edge site's layer: RuntimeClass, trackers and the profile's platform. */
export class Site extends pulumi.ComponentResource {
  /** The settings the site was rendered with (replicas, sizes, capacity). */
  public readonly resolved: ResolvedSite;
  public readonly grafanaAdminPassword?: pulumi.Output<string>;
  /** Where the site's MQTT devices connect, its CA and their credentials (secret); MQTT profiles only. */
  public readonly mqtt?: pulumi.Output<MqttEndpoint>;

  constructor(name: string, args: SiteArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:components:Site", name, {}, opts);
    const profile = getProfile(args.profile);
    // Fail on a bad image before anything is registered.
    pinnedImage(args.trackerImage);
    const s = resolveSite({
      site: args.site,
      profile,
      nodes: args.nodes,
      edgeNodes: args.edgeNodes,
      overrides: args.overrides,
      appNamespace: args.appNamespace,
      monitoringNamespace: args.monitoringNamespace,
    });
    this.resolved = s;
    if (s.opa && !args.authzPolicyRego)
      throw new Error(`profile ${profile.name} runs OPA: authzPolicyRego is required`);
    const provider = args.provider;
    const child = { parent: this };
    const ns = (n: string) =>
      new k8s.core.v1.Namespace(
        `${name}-${n}`,
        { metadata: { name: n, labels: { "app.kubernetes.io/part-of": "edgefleet", "edgefleet.dev/site": s.site } } },
        childOptions(this, provider),
      );
    const appNs = ns(s.appNamespace);
    const monNs = ns(s.monitoringNamespace);
    const inApp = { ...child, dependsOn: [appNs] };
    const inMon = { ...child, dependsOn: [monNs] };
    const base = {
      provider,
      site: s.site,
      namespace: s.appNamespace,
      monitoringNamespace: s.monitoringNamespace,
      ephemeralStorage: args.ephemeralStorage,
      secrets: args.secrets,
    };

    const rc = new WasmEdgeRuntimeClass(`${name}-wasmedge`, { provider }, child);
    const redis = s.redis ? new Redis(`${name}-redis`, { ...base, ...s.redis }, inApp) : undefined;
    const rabbit = s.rabbitmq
      ? new RabbitMQ(
          `${name}-rabbitmq`,
          { ...base, ...s.rabbitmq, mqttPlaintext: args.mqtt?.plaintext, mqttSettings: args.mqtt },
          inApp,
        )
      : undefined;
    this.mqtt = rabbit?.mqtt;
    const opa =
      s.opa && args.authzPolicyRego
        ? new OpaServer(`${name}-opa`, { ...base, policyRego: args.authzPolicyRego, resources: s.opa.resources }, inApp)
        : undefined;

    const secretEnv = [
      ...(redis ? [{ name: "REDIS_PASSWORD", secret: REDIS_AUTH_SECRET, key: "password" }] : []),
      ...(rabbit ? [{ name: "AMQP_URL", secret: RABBITMQ_APP_SECRET, key: "url" }] : []),
    ];
    new Tracker(
      `${name}-tracker`,
      {
        provider,
        site: s.site,
        namespace: s.appNamespace,
        image: args.trackerImage,
        replicas: s.tracker.replicas,
        hpaMaxReplicas: s.tracker.hpaMaxReplicas,
        targetCpuUtilizationPercent: s.tracker.targetCpuUtilizationPercent,
        resources: s.tracker.resources,
        settings: s.tracker.settings,
        runtimeClassName: "wasmedge",
        sqliteHostPath: s.tracker.sqliteHostPath,
        endpoints: {
          redis: s.redis ? `redis.${s.appNamespace}.svc:6379` : undefined,
          rabbitmq: s.rabbitmq ? `rabbitmq.${s.appNamespace}.svc:5672` : undefined,
          opa: s.opa ? `http://opa.${s.appNamespace}.svc:${OPA_PORT}` : undefined,
        },
        secretEnv,
      },
      { ...child, dependsOn: [appNs, rc, ...[redis, rabbit, opa].filter((x): x is NonNullable<typeof x> => !!x)] },
    );

    const prom = new Prometheus(
      `${name}-prometheus`,
      {
        provider,
        site: s.site,
        profile: profile.name,
        namespace: s.monitoringNamespace,
        ephemeralStorage: args.ephemeralStorage,
        targets: prometheusTargets(s),
        ...s.prometheus,
        rules: prometheusRules(s),
      },
      inMon,
    );
    if (s.grafana) {
      const g = new Grafana(
        `${name}-grafana`,
        {
          provider,
          site: s.site,
          namespace: s.monitoringNamespace,
          prometheusUrl: `http://prometheus.${s.monitoringNamespace}.svc:9090`,
          lokiUrl: s.loki ? lokiUrl(s.monitoringNamespace) : undefined,
          p99SloMs: profile.slo.p99LatencyMs,
          resources: s.grafana.resources,
          secrets: args.secrets,
        },
        { ...inMon, dependsOn: [monNs, prom] },
      );
      this.grafanaAdminPassword = g.adminPassword;
    }
    if (s.loki)
      new Loki(
        `${name}-loki`,
        {
          provider,
          site: s.site,
          namespace: s.monitoringNamespace,
          ephemeralStorage: args.ephemeralStorage,
          ...s.loki,
          pushFrom: s.logShipper ? [logShipperPeer(s.monitoringNamespace)] : [],
          queryFrom: s.grafana ? [grafanaPeer(s.monitoringNamespace)] : [],
        },
        inMon,
      );
    if (s.logShipper)
      new LogShipper(
        `${name}-log-shipper`,
        {
          provider,
          site: s.site,
          namespace: s.monitoringNamespace,
          monitoringNamespace: s.monitoringNamespace,
          lokiNamespace: s.monitoringNamespace,
          ...s.logShipper,
        },
        inMon,
      );
    new Gatekeeper(`${name}-gatekeeper`, { provider, ...s.gatekeeper, ...args.gatekeeper }, child);
    this.registerOutputs({
      trackerReplicas: s.tracker.replicas,
      hpaMaxReplicas: s.tracker.hpaMaxReplicas,
      grafanaAdminPassword: this.grafanaAdminPassword,
      mqtt: this.mqtt,
    });
  }
}
