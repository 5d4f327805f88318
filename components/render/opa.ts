import {
  appLabels,
  type ConfigMapManifest,
  type DeploymentManifest,
  hardenedContainerSecurity,
  k8sResources,
  type NetworkPolicyManifest,
  type ResourceSpec,
  selectorLabels,
  type ServiceManifest,
  withConfigHash,
} from "./common";
import { prometheusPeer } from "./redis";
import { TRACKER_APP } from "./tracker";

export const OPA_APP = "opa";
/** Same OPA release as tools/versions.env, so `opa check` in CI and the server agree on Rego. */
export const OPA_IMAGE = "openpolicyagent/opa:1.22.2-static";
const OPA_UID = 1000;
export const OPA_PORT = 8181;

/**
 * OPA's own API authorization (--authorization=basic): trackers may only
 * query decisions (POST /v1/data/...), and the kubelet/Prometheus read
 * health and metrics. Without it any pod that reaches OPA could PUT a new
 * policy over the application's.
 */
export const OPA_SYSTEM_AUTHZ = `package system.authz

import rego.v1

default allow := false

allow if {
	input.method == "POST"
	input.path[0] == "v1"
	input.path[1] == "data"
}

allow if {
	input.method == "GET"
	input.path[0] in {"health", "metrics"}
}
`;

export interface OpaRenderArgs {
  site: string;
  namespace: string;
  monitoringNamespace: string;
  /** The application authorization policy (Rego v1 syntax; OPA 1.x rejects v0). */
  policyRego: string;
  resources: ResourceSpec;
  replicas?: number;
  image?: string;
}

export interface OpaManifests {
  configMap: ConfigMapManifest;
  deployment: DeploymentManifest;
  service: ServiceManifest;
  networkPolicy: NetworkPolicyManifest;
}

export function renderOpa(a: OpaRenderArgs): OpaManifests {
  if (!/^\s*package\s+[\w.]+/m.test(a.policyRego)) throw new Error("authorization policy has no package clause");
  if (/^\s*package\s+system(\.|\s|$)/m.test(a.policyRego)) {
    throw new Error("authorization policy must not live under package system (reserved for OPA's own authz)");
  }
  const labels = appLabels(OPA_APP, "authz", a.site);
  const selector = selectorLabels(OPA_APP);
  const meta = (name: string) => ({ name, namespace: a.namespace, labels });
  const out: OpaManifests = {
    configMap: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta("opa-policies"),
      data: { "authz.rego": a.policyRego, "system-authz.rego": OPA_SYSTEM_AUTHZ },
    },
    deployment: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta("opa"),
      spec: {
        replicas: a.replicas ?? 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: { ...labels, ...selector } },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "opa",
                image: a.image ?? OPA_IMAGE,
                imagePullPolicy: "IfNotPresent",
                args: [
                  "run",
                  "--server",
                  // OPA 1.x listens on localhost by default.
                  `--addr=0.0.0.0:${OPA_PORT}`,
                  "--authorization=basic",
                  "--disable-telemetry",
                  "--log-level=info",
                  "/policies/system-authz.rego",
                  "/policies/authz.rego",
                ],
                env: [{ name: "GOMEMLIMIT", value: `${Math.floor(a.resources.limits.memoryMiB * 0.85)}MiB` }],
                ports: [{ name: "http", containerPort: OPA_PORT }],
                resources: k8sResources(a.resources),
                securityContext: hardenedContainerSecurity(OPA_UID),
                readinessProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 10 },
                livenessProbe: {
                  httpGet: { path: "/health", port: "http" },
                  initialDelaySeconds: 5,
                  periodSeconds: 20,
                },
                volumeMounts: [{ name: "policies", mountPath: "/policies", readOnly: true }],
              },
            ],
            volumes: [{ name: "policies", configMap: { name: "opa-policies" } }],
          },
        },
      },
    },
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("opa"),
      spec: { selector, ports: [{ name: "http", port: OPA_PORT, targetPort: "http" }] },
    },
    networkPolicy: {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta("opa"),
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              { podSelector: { matchLabels: selectorLabels(TRACKER_APP) } },
              prometheusPeer(a.monitoringNamespace),
            ],
            ports: [{ protocol: "TCP", port: OPA_PORT }],
          },
        ],
      },
    },
  };
  withConfigHash(out.deployment, out.configMap);
  return out;
}
