/** edgefleet:k3s.arch: what the artifacts are built for, which preflight holds every host to. */
import { validate } from "../../../config/validate";
import { problemsOf, SECRET_KEYS, validConfig } from "./helpers";

type Json = Record<string, unknown>;
const k3s = (c: Json) => c["edgefleet:k3s"] as Json & { artifacts: Json & { images: Json } };

describe("edgefleet:k3s.arch", () => {
  it("defaults to amd64", () => {
    expect(validate("test-stack", validConfig(), SECRET_KEYS).k3s!.arch).toBe("amd64");
  });

  it("takes arm64 with the arm64 images tarball", () => {
    const cfg = validConfig();
    k3s(cfg).arch = "arm64";
    k3s(cfg).artifacts.images.file = "k3s-airgap-images-arm64.tar.zst";
    expect(validate("test-stack", cfg, SECRET_KEYS).k3s!.arch).toBe("arm64");
  });

  it("refuses an architecture the images tarball is not for, with the fix", () => {
    const cfg = validConfig();
    k3s(cfg).arch = "arm64";
    expect(problemsOf(cfg)).toEqual([
      "edgefleet:k3s.arch: is arm64, but the images tarball k3s-airgap-images-amd64.tar.zst is for amd64 | set edgefleet:k3s.arch to amd64, or point the artifacts at the arm64 release files.",
    ]);
  });

  it("refuses an architecture K3s does not ship", () => {
    const cfg = validConfig();
    k3s(cfg).arch = "riscv64";
    expect(problemsOf(cfg)).toEqual([
      expect.stringMatching(/^edgefleet:k3s\.arch: "riscv64" is not allowed \| use one of "amd64", "arm64", "arm"/),
    ]);
  });
});
