/**
 * A deliberately tiny YAML writer for the flat files K3s reads
 * (config.yaml, registries.yaml).
 *
 * Why not a YAML library: K3s parses these files with gopkg.in/yaml.v2, a
 * YAML 1.1 parser, where unquoted `0600` is an octal int, `on`/`yes` are
 * booleans and `1.30` is a float. A 1.2 emitter leaves some of those bare.
 * Every string here is written double-quoted (JSON string syntax is valid
 * YAML in both versions), so what K3s reads is exactly what was rendered.
 * Key order is the caller's insertion order, so output is byte-stable.
 */
export type YamlValue = string | number | boolean | YamlValue[] | { [key: string]: YamlValue };

function scalar(v: string | number | boolean): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" && !Number.isFinite(v)) throw new Error(`cannot render non-finite number ${v}`);
  return String(v);
}

function isMap(v: YamlValue): v is { [key: string]: YamlValue } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function lines(value: { [key: string]: YamlValue }, indent: number): string[] {
  const pad = " ".repeat(indent);
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const key = JSON.stringify(k) === `"${k}"` && /^[A-Za-z0-9_.\-/]+$/.test(k) ? k : JSON.stringify(k);
    if (Array.isArray(v)) {
      if (v.length === 0) {
        out.push(`${pad}${key}: []`);
        continue;
      }
      out.push(`${pad}${key}:`);
      for (const item of v) {
        if (Array.isArray(item) || isMap(item))
          throw new Error(`nested collections in lists are not supported (key ${k})`);
        out.push(`${pad}  - ${scalar(item)}`);
      }
    } else if (isMap(v)) {
      if (Object.keys(v).length === 0) {
        out.push(`${pad}${key}: {}`);
        continue;
      }
      out.push(`${pad}${key}:`);
      out.push(...lines(v, indent + 2));
    } else {
      out.push(`${pad}${key}: ${scalar(v)}`);
    }
  }
  return out;
}

/** Render a mapping as YAML, ending with a newline. */
export function toYaml(doc: { [key: string]: YamlValue }, header?: string): string {
  const head = header ? header.split("\n").map((l) => `# ${l}`.trimEnd()) : [];
  return [...head, ...lines(doc, 0)].join("\n") + "\n";
}
