/**
 * Every image the site layer itself runs, from the one place each is defined
 * (the render modules' constants, the tracker default, the Gatekeeper release).
 * They are what the allowed-registries policy admits by default
 * (policies/thresholds.ts): exactly these repositories, nothing a stack merely
 * uses. A stack adds its own with `edgefleet:allowedRegistries`.
 *
 * Kept loadable by Node's type stripping (imports of types say `type`).
 */
import { imageName, parseImageRef, pinnedImage, type ImageRef } from "../config/image";
import { GATEKEEPER_VERSION } from "./gatekeeperRelease";
import { GATEKEEPER_IMAGE_REPOSITORY } from "./render/gatekeeper";
import { GRAFANA_IMAGE } from "./render/grafana";
import { LOG_SHIPPER_IMAGE } from "./render/logShipper";
import { LOKI_IMAGE } from "./render/loki";
import { OPA_IMAGE } from "./render/opa";
import { PROMETHEUS_IMAGE } from "./render/prometheus";
import { RABBITMQ_IMAGE } from "./render/rabbitmq";
import { REDIS_EXPORTER_IMAGE, REDIS_IMAGE } from "./render/redis";

/** The tracker image when a site names none: pinned, never `latest`. */
export const DEFAULT_TRACKER_IMAGE: ImageRef = { registry: "ghcr.io", repository: "edgefleet/tracker", tag: "0.4.2" };

export const SITE_LAYER_IMAGES: readonly string[] = [
  pinnedImage(DEFAULT_TRACKER_IMAGE),
  REDIS_IMAGE,
  REDIS_EXPORTER_IMAGE,
  RABBITMQ_IMAGE,
  PROMETHEUS_IMAGE,
  GRAFANA_IMAGE,
  LOKI_IMAGE,
  LOG_SHIPPER_IMAGE,
  OPA_IMAGE,
  `${GATEKEEPER_IMAGE_REPOSITORY}:v${GATEKEEPER_VERSION}`,
];

/** Their repositories as the runtime resolves them (`redis` is docker.io/library/redis), sorted and unique. */
export function siteLayerRepositories(): string[] {
  return [...new Set(SITE_LAYER_IMAGES.map((i) => imageName(parseImageRef(i))))].sort();
}
