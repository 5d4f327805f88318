import {
  formatImageRef,
  fromAllowedRegistry,
  imageName,
  imageRefProblem,
  parseImageRef,
  pinnedImage,
  unpinnedReason,
} from "../../../config/image";

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("image references: Docker's normalization", () => {
  it.each([
    ["nginx:1.2", { registry: "docker.io", repository: "library/nginx", tag: "1.2" }],
    ["nginx", { registry: "docker.io", repository: "library/nginx" }],
    ["edgefleet/x:1", { registry: "docker.io", repository: "edgefleet/x", tag: "1" }],
    ["docker.io/nginx:1.2", { registry: "docker.io", repository: "library/nginx", tag: "1.2" }],
    ["index.docker.io/grafana/grafana:11.2.0", { registry: "docker.io", repository: "grafana/grafana", tag: "11.2.0" }],
    ["ghcr.io/edgefleet/tracker:0.4.2", { registry: "ghcr.io", repository: "edgefleet/tracker", tag: "0.4.2" }],
    [`registry.local:5000/a/b@${DIGEST}`, { registry: "registry.local:5000", repository: "a/b", digest: DIGEST }],
    [
      `registry.local:5000/a/b:1.0@${DIGEST}`,
      { registry: "registry.local:5000", repository: "a/b", tag: "1.0", digest: DIGEST },
    ],
    ["localhost/x:1", { registry: "localhost", repository: "x", tag: "1" }],
    ["localhost:5000/app", { registry: "localhost:5000", repository: "app" }],
    ["registry:5000/app:v2", { registry: "registry:5000", repository: "app", tag: "v2" }],
    ["[::1]:5000/app:1", { registry: "[::1]:5000", repository: "app", tag: "1" }],
    ["192.0.2.10/team/app:1", { registry: "192.0.2.10", repository: "team/app", tag: "1" }],
    // An upper-case first component is a registry: a repository path is lower-case.
    ["Mirror/app:1", { registry: "Mirror", repository: "app", tag: "1" }],
    ["a/b/c/d_e__f.g-h--i:Tag_1.x-y", { registry: "docker.io", repository: "a/b/c/d_e__f.g-h--i", tag: "Tag_1.x-y" }],
  ])("%s", (image, want) => {
    expect(parseImageRef(image)).toEqual(want);
  });

  it("names what an allow-list matches, and writes the fully qualified reference", () => {
    expect(imageName(parseImageRef("redis:7.2"))).toBe("docker.io/library/redis");
    expect(formatImageRef(parseImageRef("redis:7.2"))).toBe("docker.io/library/redis:7.2");
    expect(formatImageRef(parseImageRef(`r.io/a:1@${DIGEST}`))).toBe(`r.io/a@${DIGEST}`);
    expect(formatImageRef(parseImageRef("localhost:5000/app"))).toBe("localhost:5000/app");
  });

  it.each([
    ["", /empty/],
    ["nginx :1", /white space/],
    ["0123456789abcdef".repeat(4), /image ID/],
    ["Nginx:1", /must be lower-case/],
    ["registry.example.com/Team/app:1", /must be lower-case/],
    ["nginx:", /tag "" is not a tag/],
    ["nginx:-1", /tag "-1" is not a tag/],
    [`nginx:${"a".repeat(129)}`, /is not a tag/],
    ["a//b:1", /is not a path/],
    ["a/-b:1", /is not a path/],
    ["a/b_:1", /is not a path/],
    ["a/b___c:1", /is not a path/],
    [":1", /names no repository/],
    ["-bad.io/x:1", /registry "-bad.io" is not a host/],
    ["nginx@sha256:abc", /is not <algorithm>:<hex>/],
    [`nginx@sha256:${"A".repeat(64)}`, /64 lower-case hex digits/],
    [`nginx@sha256:${"a".repeat(63)}`, /64 lower-case hex digits/],
    [`nginx@md5:${"a".repeat(32)}`, /algorithm "md5" is not one of sha256, sha384, sha512/],
    [`nginx@${DIGEST}@${DIGEST}`, /is not <algorithm>:<hex>/],
    [`${"a".repeat(256)}:1`, /longer than 255/],
  ])("refuses %j", (image, reason) => {
    expect(imageRefProblem(image)).toMatch(reason);
    expect(() => parseImageRef(image)).toThrow(/is not a valid image reference/);
  });

  it("refuses what is not a string", () => {
    expect(imageRefProblem(undefined)).toMatch(/not a string/);
    expect(imageRefProblem(42)).toMatch(/not a string/);
  });
});

describe("image references: pinned", () => {
  it("is pinned by a tag other than latest, or by a digest", () => {
    expect(unpinnedReason(parseImageRef("nginx:1.2"))).toBeUndefined();
    expect(unpinnedReason(parseImageRef(`nginx@${DIGEST}`))).toBeUndefined();
    expect(unpinnedReason(parseImageRef(`nginx:latest@${DIGEST}`))).toBeUndefined();
    expect(unpinnedReason(parseImageRef("nginx"))).toMatch(/neither tag nor digest/);
    expect(unpinnedReason(parseImageRef("nginx:latest"))).toMatch(/"latest" is not a pin/);
    expect(unpinnedReason(parseImageRef("nginx:LATEST"))).toMatch(/"LATEST" is not a pin/);
    expect(unpinnedReason(parseImageRef("localhost:5000/app"))).toMatch(/neither tag nor digest/);
  });

  const base = { registry: "registry.example.com/", repository: "edgefleet/tracker" };
  it("joins registry, repository and tag or digest", () => {
    expect(pinnedImage({ ...base, tag: "1.4.2" })).toBe("registry.example.com/edgefleet/tracker:1.4.2");
    expect(pinnedImage({ ...base, tag: "1.4.2", digest: DIGEST })).toBe(
      `registry.example.com/edgefleet/tracker@${DIGEST}`,
    );
    expect(pinnedImage(parseImageRef("nginx:1.2"))).toBe("docker.io/library/nginx:1.2");
  });
  it.each(["latest", "LATEST", "", "  "])("refuses tag %j", (tag) => {
    expect(() => pinnedImage({ ...base, tag })).toThrow(/is not pinned: .*latest/i);
  });
  it("refuses a missing tag, a bad digest, a repository carrying a tag and a registry that is not one", () => {
    expect(() => pinnedImage(base)).toThrow(/neither tag nor digest/);
    expect(() => pinnedImage({ ...base, digest: "sha256:abc" })).toThrow(/not <algorithm>:<hex>/);
    expect(() => pinnedImage({ ...base, repository: "x:1", tag: "1" })).toThrow(/bare lower-case path/);
    expect(() => pinnedImage({ ...base, registry: "", tag: "1" })).toThrow(/registry "" is not a host/);
    // The old site-layer parser's reading of edgefleet/x:1: "edgefleet" is no registry.
    expect(() => pinnedImage({ registry: "edgefleet", repository: "x", tag: "1" })).toThrow(
      /"edgefleet" reads as the first component of a docker.io repository/,
    );
  });
});

describe("image references: allowed registries", () => {
  it("matches registries and registry/path prefixes on a path boundary, after normalization", () => {
    expect(fromAllowedRegistry("redis:7.2", ["docker.io"])).toBe(true);
    expect(fromAllowedRegistry("edgefleet/x:1", ["docker.io/edgefleet"])).toBe(true);
    expect(fromAllowedRegistry("edgefleet/x:1", ["edgefleet"])).toBe(false);
    expect(fromAllowedRegistry("registry.example.com/x:1", ["registry.example.com/"])).toBe(true);
    expect(fromAllowedRegistry("registry.example.com.evil.io/x:1", ["registry.example.com"])).toBe(false);
    expect(fromAllowedRegistry("registry.example.com/team-b/x:1", ["registry.example.com/team"])).toBe(false);
    expect(fromAllowedRegistry(parseImageRef("localhost:5000/app:1"), ["localhost:5000"])).toBe(true);
  });
  it("allows no reference it cannot read", () => {
    expect(fromAllowedRegistry("docker.io/Nginx:1", ["docker.io"])).toBe(false);
  });
});
