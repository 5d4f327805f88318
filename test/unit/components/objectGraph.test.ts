import * as fs from "fs";
import { localGatekeeperManifest } from "../../../components/gatekeeperManifest";
import { parseManifest } from "../../../components/render/gatekeeper";
import { applyOrder, dependencyEdges, objectResourceName, typeToken } from "../../../components/render/objectGraph";

const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "gk" } };
const crd = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com" },
  spec: { group: "example.com", names: { kind: "Widget" } },
};
const widget = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w", namespace: "gk" } };
const elsewhere = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "other" } };

describe("manifest objects as ConfigGroup applied them", () => {
  it("names types and resources as the ConfigGroup did", () => {
    expect(typeToken(ns)).toBe("kubernetes:core/v1:Namespace");
    expect(typeToken(crd)).toBe("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition");
    expect(objectResourceName("s-install", widget)).toBe("s-install:gk/w");
    expect(objectResourceName("s-install", crd)).toBe("s-install:widgets.example.com");
    expect(() => typeToken({ kind: "X", metadata: { name: "x" } })).toThrow(/no apiVersion/);
    expect(() => objectResourceName("s-install", { apiVersion: "v1", kind: "ConfigMap", metadata: {} })).toThrow(
      /s-install: a ConfigMap object has no metadata.name/,
    );
  });

  it("orders a custom resource after its CRD and a namespaced object after its Namespace", () => {
    const objs = [widget, elsewhere, crd, ns];
    expect(dependencyEdges(objs)).toEqual([[2, 3], [], [], []]);
    const order = applyOrder(dependencyEdges(objs));
    expect(order.indexOf(0)).toBeGreaterThan(order.indexOf(2));
    expect(order.indexOf(0)).toBeGreaterThan(order.indexOf(3));
    expect([...order].sort()).toEqual([0, 1, 2, 3]);
  });

  it("refuses a depends-on annotation it would otherwise drop", () => {
    const annotated = {
      ...elsewhere,
      metadata: { ...elsewhere.metadata, annotations: { "config.kubernetes.io/depends-on": "x" } },
    };
    expect(() => dependencyEdges([annotated])).toThrow(/depends-on annotation is not supported/);
  });

  it("puts Gatekeeper's Namespace before everything in it", () => {
    const objs = parseManifest(fs.readFileSync(localGatekeeperManifest(), "utf8"));
    const edges = dependencyEdges(objs);
    const nsIndex = objs.findIndex((o) => o.kind === "Namespace");
    const namespaced = objs
      .map((o, i) => [o, i] as const)
      .filter(([o]) => o.metadata?.namespace === "gatekeeper-system");
    expect(namespaced.length).toBeGreaterThan(5);
    for (const [, i] of namespaced) expect(edges[i]).toContain(nsIndex);
    const order = applyOrder(dependencyEdges(objs));
    expect(order[0]).toBe(nsIndex);
  });
});
