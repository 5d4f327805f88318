import {
  cpuQuantity,
  exceeds,
  memoryQuantity,
  parseCpuMillis,
  parseMemoryMiB,
  parseQuantity,
} from "../../../config/quantity";

describe("quantities: the API server's grammar", () => {
  it.each([
    ["200m", 0.2],
    ["1", 1],
    ["1.5", 1.5],
    ["1.", 1],
    [".5", 0.5],
    ["+2", 2],
    ["-1", -1],
    ["100n", 100e-9],
    ["10u", 10e-6],
    ["2k", 2000],
    ["128M", 128e6],
    ["1G", 1e9],
    ["1E", 1e18],
    ["1e3", 1000],
    ["1E3", 1000],
    ["5e-3", 0.005],
    ["1Ki", 1024],
    ["1Mi", 2 ** 20],
    ["1.5Gi", 1.5 * 2 ** 30],
    ["2Ti", 2 * 2 ** 40],
    ["1Pi", 2 ** 50],
    ["1Ei", 2 ** 60],
  ])("%s is %d", (q, v) => {
    expect(parseQuantity(q)).toBeCloseTo(v, 12);
  });

  it("takes a finite plain number as that many units", () => {
    expect(parseQuantity(2)).toBe(2);
    expect(parseQuantity(0.25)).toBe(0.25);
    expect(parseQuantity(Infinity)).toBeUndefined();
    expect(parseQuantity(NaN)).toBeUndefined();
  });

  // Each of these the API server refuses too: upper-case K, byte units, spaces, an exponent with a suffix.
  it.each([
    "",
    "lots",
    "fast",
    "1K",
    "1KB",
    "1kb",
    "1gi",
    "5Qi",
    "1 Gi",
    " 1Gi",
    "1Gi ",
    "1e",
    "1e3Mi",
    ".",
    "1..2",
    "--1",
    "0x10",
  ])("refuses %j", (q) => {
    expect(parseQuantity(q)).toBeUndefined();
  });

  it("refuses what is not a string or a number", () => {
    for (const q of [undefined, null, true, {}, ["1"]]) expect(parseQuantity(q)).toBeUndefined();
  });
});

describe("quantities in the units of config/sizeClasses.ts", () => {
  it("reads CPU as millicores, without floating-point noise", () => {
    expect(parseCpuMillis("200m")).toBe(200);
    expect(parseCpuMillis("0.1")).toBe(100);
    expect(parseCpuMillis("1.5")).toBe(1500);
    expect(parseCpuMillis(2)).toBe(2000);
    expect(parseCpuMillis("250.5m")).toBe(250.5);
    expect(parseCpuMillis("2 cores")).toBeUndefined();
  });

  it("reads memory as MiB, decimal suffixes included", () => {
    expect(parseMemoryMiB("1Gi")).toBe(1024);
    expect(parseMemoryMiB("256Mi")).toBe(256);
    expect(parseMemoryMiB("128M")).toBeCloseTo(122.07, 2);
    expect(parseMemoryMiB(2 ** 30)).toBe(1024);
    expect(parseMemoryMiB("16 gigs")).toBeUndefined();
  });

  it("writes the strings the renderers put in manifests, which read back to the same numbers", () => {
    expect(cpuQuantity(250)).toBe("250m");
    expect(memoryQuantity(512)).toBe("512Mi");
    expect(parseCpuMillis(cpuQuantity(1650))).toBe(1650);
    expect(parseMemoryMiB(memoryQuantity(3128))).toBe(3128);
  });

  it("compares as OPA's decimal arithmetic does", () => {
    expect(exceeds(0.2, 0.05, 4)).toBe(false);
    expect(exceeds(0.21, 0.05, 4)).toBe(true);
    expect(exceeds(1651, 1650)).toBe(true);
    expect(exceeds(1650, 1650)).toBe(false);
  });
});
