import { withStorage } from "../../../components/k8sOptions";
import { prepareTemplates } from "../../../components/render/gatekeeper";

const sts = {
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: "redis" },
  spec: {
    template: {
      spec: { containers: [{ name: "redis" }], volumes: [{ name: "config", configMap: { name: "redis" } }] },
    },
    volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { resources: { requests: { storage: "2Gi" } } } }],
  },
};

describe("withStorage", () => {
  test("leaves claims alone unless asked", () => {
    expect(withStorage(sts, false)).toBe(sts);
    expect(withStorage(sts, undefined)).toBe(sts);
  });
  test("turns each claim into an emptyDir of the claimed size, keeping the other volumes", () => {
    const out = withStorage(sts, true);
    expect(out.spec.volumeClaimTemplates).toBeUndefined();
    expect(out.spec.template.spec.volumes).toEqual([
      { name: "config", configMap: { name: "redis" } },
      { name: "data", emptyDir: { sizeLimit: "2Gi" } },
    ]);
    expect(sts.spec.volumeClaimTemplates).toHaveLength(1); // input untouched
  });
});

describe("prepareTemplates", () => {
  const tpl = { apiVersion: "templates.gatekeeper.sh/v1", kind: "ConstraintTemplate", metadata: { name: "x" } };
  test("waits for Gatekeeper to create the Constraint kind by default", () => {
    expect(prepareTemplates([tpl])[0].metadata.annotations["pulumi.com/waitFor"]).toBe(
      "jsonpath={.status.created}=true",
    );
  });
  test("does not wait where the controller cannot run", () => {
    expect(prepareTemplates([tpl], false)[0].metadata.annotations).toBeUndefined();
  });
});
