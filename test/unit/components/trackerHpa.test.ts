/**
 * The HPA owns the tracker's replica count after creation: the Deployment is
 * registered with ignoreChanges on spec.replicas, so `pulumi up` never resets a
 * scaled-out tracker to its floor. The mocks see only inputs, not resource
 * options; a resource transformation on the parent component does see them.
 * It is Pulumi's in-process hook (run in the Resource constructor, inherited
 * by every child), unlike `transforms`, which the engine calls back and the
 * mock monitor never does.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { localGatekeeperManifest } from "../../../components/gatekeeperManifest";
import { PROFILE_NAMES, PROFILES } from "../../../config/profiles";
import { siteTrackerReplicas } from "../../../components/profiles";
import { installMocks, one, Registered, settle } from "./helpers";

const registered: Registered[] = installMocks();
// Sites render the 6000-line Gatekeeper manifest.
jest.setTimeout(60_000);

// Imported after the mocks are installed.
import { Site } from "../../../components/site";
import { Tracker } from "../../../components/tracker";

/* eslint-disable @typescript-eslint/no-explicit-any */
interface Seen {
  resource: pulumi.Resource;
  type: string;
  name: string;
  props: Record<string, any>;
  opts: pulumi.CustomResourceOptions;
}

/** A transformation that records each resource's type, props and options, changing nothing. */
function recorder(): { seen: Seen[]; transformation: pulumi.ResourceTransformation } {
  const seen: Seen[] = [];
  return {
    seen,
    transformation: ({ resource, type, name, props, opts }) => {
      seen.push({
        resource,
        type,
        name,
        props: props as Record<string, any>,
        opts: opts as pulumi.CustomResourceOptions,
      });
      return undefined;
    },
  };
}

const provider = new k8s.Provider("site-cluster", { kubeconfig: "{}" });
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";

describe("Tracker: the HPA owns replicas", () => {
  it("registers the Deployment with ignoreChanges on spec.replicas, and the HPA after it", async () => {
    const p = PROFILES["factoryIiot"];
    const { seen, transformation } = recorder();
    new Tracker(
      "t",
      {
        provider,
        site: "s",
        namespace: "edgefleet",
        image: { registry: "r.example", repository: "industrial-iot", tag: "1.3.0" },
        replicas: 2,
        hpaMaxReplicas: 8,
        targetCpuUtilizationPercent: p.tracker.hpa.targetCpuUtilizationPercent,
        resources: p.tracker.resources,
        settings: p.tracker.settings,
        runtimeClassName: "wasmedge",
        endpoints: {},
      },
      { transformations: [transformation] },
    );
    await settle(registered);
    const dep = seen.filter((s) => s.type === DEPLOYMENT);
    expect(dep).toHaveLength(1);
    expect(dep[0].opts.ignoreChanges).toContain("spec.replicas");
    // The rest of the Deployment is still managed: nothing else is ignored.
    expect(dep[0].opts.ignoreChanges).toEqual(["spec.replicas"]);
    const hpa = seen.find((s) => s.type === HPA)!;
    expect(hpa.props.spec.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: dep[0].props.metadata.name,
    });
    expect(hpa.opts.ignoreChanges).toBeUndefined();
    expect(hpa.opts.dependsOn).toEqual([dep[0].resource]);
    // Only the Deployment's replicas are left to the HPA; every other child is fully managed.
    expect(seen.filter((s) => s.opts.ignoreChanges?.length).map((s) => s.type)).toEqual([DEPLOYMENT]);
  });

  it.each(PROFILE_NAMES)("%s: HPA min/max come from the profile and bracket the initial replicas", async (name) => {
    const profile = PROFILES[name];
    const edgeNodes = 10;
    const { seen, transformation } = recorder();
    const start = registered.length;
    const site = new Site(
      `hpa-${name}`,
      {
        provider,
        site: `hpa-${name}`,
        profile: name,
        edgeNodes,
        trackerImage: { registry: "registry.example.com", repository: "edgefleet/tracker", tag: "1.0.0" },
        gatekeeper: { manifestPath: localGatekeeperManifest(), templates: [], constraints: [] },
        authzPolicyRego: "package x\n",
      },
      { transformations: [transformation] },
    );
    await settle(registered);
    const dep = seen.find((s) => s.type === DEPLOYMENT && s.props.metadata.name === "tracker")!;
    expect(dep.opts.ignoreChanges).toContain("spec.replicas");
    // What the mocks registered is what the transformation saw (it changed nothing).
    const rs = registered.slice(start);
    const hpa = one(rs, HPA).inputs.spec;
    const replicas = one(rs, DEPLOYMENT, `hpa-${name}-tracker`).inputs.spec.replicas;
    expect(replicas).toBe(dep.props.spec.replicas);

    // From the profile: the floor is the case's replicas per edge node, the
    // ceiling its per-node bound unless capacity is tighter, the target its CPU.
    expect(hpa.minReplicas).toBe(siteTrackerReplicas(profile, edgeNodes));
    expect(hpa.maxReplicas).toBe(
      Math.min(edgeNodes * profile.tracker.hpa.maxReplicasPerEdgeNode, site.resolved.capacity.maxTrackerReplicas),
    );
    expect(hpa.metrics).toEqual([
      {
        type: "Resource",
        resource: {
          name: "cpu",
          target: { type: "Utilization", averageUtilization: profile.tracker.hpa.targetCpuUtilizationPercent },
        },
      },
    ]);
    expect(hpa.minReplicas).toBeLessThanOrEqual(replicas);
    expect(replicas).toBeLessThanOrEqual(hpa.maxReplicas);
    expect(hpa.maxReplicas).toBeLessThanOrEqual(site.resolved.capacity.maxTrackerReplicas);
  });
});
