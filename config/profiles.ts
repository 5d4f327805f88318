/**
 * Site profile names and the tracker numbers the config check needs from each
 * reference case (shared/seeds is the source; file names below). The
 * site layer (components/) owns the full presets; config/ only needs enough
 * to prove at program start that a site's tracker replicas fit its nodes
 * before anything is created.
 */
import type { SizeClassName } from "./sizeClasses";

export const PROFILE_NAMES = ["logisticsHub", "retailCity", "supplyChain", "edgeGeneral", "factoryIiot"] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** Stack config names profiles in camelCase; the site layer (components/profiles.ts) in kebab-case. */
export const SITE_LAYER_PROFILE = {
  logisticsHub: "logistics-hub",
  retailCity: "retail-city",
  supplyChain: "supply-chain",
  edgeGeneral: "edge-general",
  factoryIiot: "factory-iiot",
} as const satisfies Record<ProfileName, string>;
export type SiteLayerProfileName = (typeof SITE_LAYER_PROFILE)[ProfileName];

export interface TrackerResources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface ProfileCaseFacts {
  /** The case's sample tracker Deployment, requests and limits as written there. */
  tracker: TrackerResources;
  /** The node size the case names ("资源受限（4C8G）"), where it names one. */
  caseNodeSize?: SizeClassName;
}

export const PROFILE_CASE_FACTS: Record<ProfileName, ProfileCaseFacts> = {
  // 000 smart logistics: logistics-tracker 200m/256Mi requests, 1000m/1Gi limits; nodes 4C8G.
  logisticsHub: {
    tracker: {
      requests: { cpu: "200m", memory: "256Mi" },
      limits: { cpu: "1000m", memory: "1Gi" },
    },
    caseNodeSize: "4c8g",
  },
  // 001 retail e-commerce: logistics-system 50m/128Mi requests, 200m/256Mi limits; nodes 2C4G.
  retailCity: {
    tracker: {
      requests: { cpu: "50m", memory: "128Mi" },
      limits: { cpu: "200m", memory: "256Mi" },
    },
    caseNodeSize: "2c4g",
  },
  // 002 supply chain: supply-chain-tracker 100m/128Mi requests, 500m/512Mi limits; no node size stated.
  supplyChain: {
    tracker: {
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    },
  },
  // 003 cross-industry edge: edge-service 100m/128Mi requests, 500m/512Mi limits; nodes 4C8G.
  edgeGeneral: {
    tracker: {
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    },
    caseNodeSize: "4c8g",
  },
  // 004 factory IIoT: industrial-iot 50m/64Mi requests, 200m/128Mi limits; nodes 2C4G.
  factoryIiot: {
    tracker: {
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { cpu: "200m", memory: "128Mi" },
    },
    caseNodeSize: "2c4g",
  },
};
