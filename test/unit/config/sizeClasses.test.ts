import { SIZE_CLASSES, customSizeClass, sizeClassFor, type SizeClass } from "../../../config/sizeClasses";
import { validate } from "../../../config/validate";
import { resolveSize } from "../../../infra/render/size";
import { validConfig } from "./helpers";

const box = (cpuMillis: number, memoryMiB: number) => ({ cpuMillis, memoryMiB });
const cls = (cpuMillis: number, memoryMiB: number, kubeReservedMiB: number): SizeClass => ({
  capacity: box(cpuMillis, memoryMiB),
  kubeReserved: box(100, kubeReservedMiB),
  systemReserved: box(100, 100),
  evictionHardMemoryMiB: 100,
});

describe("custom size -> size class: the one rule", () => {
  it.each([
    [box(8000, 16384), "4c8g"],
    [box(4000, 8192), "4c8g"],
    [box(6000, 12288), "4c8g"],
    [box(3999, 16384), "2c4g"],
    [box(4000, 8191), "2c4g"],
    [box(2000, 4096), "2c4g"],
    // Smaller than every class: the smallest class, K3s needs that much whatever the box.
    [box(1000, 2048), "2c4g"],
  ])("%j is held to %s", (capacity, name) => {
    expect(sizeClassFor(capacity)).toBe(name);
    expect(customSizeClass(capacity)).toEqual({ ...SIZE_CLASSES[name as "2c4g" | "4c8g"], capacity });
  });

  // Classes that do not nest, where "the largest class it covers" needs a tie-break.
  const skewed = { "8c4g": cls(8000, 4096, 300), "2c8g": cls(2000, 8192, 700), "2c2g": cls(2000, 2048, 200) };
  it("prefers the class with more memory among those the box covers", () => {
    expect(sizeClassFor(box(8000, 8192), skewed)).toBe("2c8g");
    expect(sizeClassFor(box(8000, 4096), skewed)).toBe("8c4g");
  });
  it("breaks equal memory by CPU, then by the order the classes are listed in", () => {
    const sameMemory = { a: cls(2000, 4096, 1), b: cls(4000, 4096, 2) };
    expect(sizeClassFor(box(4000, 4096), sameMemory)).toBe("b");
    const twins = { first: cls(2000, 4096, 1), second: cls(2000, 4096, 2) };
    expect(sizeClassFor(box(4000, 8192), twins)).toBe("first");
  });
  it("holds a box smaller than every class to the one with least memory, then least CPU", () => {
    expect(sizeClassFor(box(1000, 1024), skewed)).toBe("2c2g");
    expect(sizeClassFor(box(1000, 1024), { big: cls(4000, 2048, 1), small: cls(2000, 2048, 2) })).toBe("small");
  });

  it("is what validation and the host layer both apply to an explicit size", () => {
    const cfg = validConfig();
    const sites = cfg["edgefleet:sites"] as Array<{ hosts: Array<{ size: unknown }> }>;
    sites[0].hosts[3].size = { cpu: 6, memory: "12Gi" };
    const spec = validate("s", cfg, new Set(["edgefleet:ssh"]));
    const size = spec.sites[0].hosts[3].size;
    expect(size.sizeClass).toBe("4c8g");
    expect(size.class).toEqual(customSizeClass(box(6000, 12288)));
    expect(resolveSize(size.spec)).toEqual(size.class);
  });
  it("rounds a decimal memory size down to whole MiB, which the host layer requires", () => {
    const cfg = validConfig();
    const sites = cfg["edgefleet:sites"] as Array<{ hosts: Array<{ size: unknown }> }>;
    sites[0].hosts[3].size = { cpu: "4.5", memory: "16G" };
    const size = validate("s", cfg, new Set(["edgefleet:ssh"])).sites[0].hosts[3].size;
    expect(size.class.capacity).toEqual(box(4500, 15258));
    expect(() => resolveSize(size.spec)).not.toThrow();
  });
});
