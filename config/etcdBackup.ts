/**
 * K3s's scheduled etcd snapshots: the cron grammar K3s accepts, its defaults,
 * and the one place the S3 credentials drop-in is named. Read by the stack
 * schema (config/schema.ts), the renderer (infra/render/k3sConfig.ts) and
 * the host wiring (infra/k3sHost.ts); infra/K3S-NOTES.md section 11 has the
 * sources.
 *
 * K3s schedules snapshots with robfig/cron v3's cron.New() (pkg/etcd), whose
 * parser takes the five standard fields (minute hour day-of-month month
 * day-of-week) or a descriptor (@hourly, @daily, @every 6h, ...). A spec it
 * cannot parse would be found only on the host, when K3s starts; so the
 * grammar is checked here, before any host is touched.
 */

/** K3s's own defaults (pkg/cli/cmds/server.go): twice a day, five kept. */
export const K3S_SNAPSHOT_DEFAULTS = { schedule: "0 */12 * * *", retention: 5 } as const;

/**
 * Root-only config drop-in holding etcd-s3-access-key and etcd-s3-secret-key.
 * K3s merges every config.yaml.d/*.yaml after config.yaml (pkg/configfilearg
 * dotDFiles), so the credentials never sit in config.yaml, which is in plain
 * state. configure.sh writes it (its default S3_CREDENTIALS_FILE is this path)
 * and service.sh fingerprints it.
 */
export const ETCD_S3_CREDENTIALS_FILE = "/etc/rancher/k3s/config.yaml.d/90-edgefleet-etcd-s3.yaml";

const DESCRIPTORS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

// Field ranges of robfig/cron's standard parser; day-of-week 7 is not Sunday there.
const FIELDS: Array<{ name: string; min: number; max: number; names?: string[] }> = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  { name: "day of week", min: 0, max: 6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

function fieldValue(v: string, f: (typeof FIELDS)[number]): number | undefined {
  if (/^\d+$/.test(v)) return Number(v);
  const i = f.names?.indexOf(v.toLowerCase()) ?? -1;
  return i >= 0 ? i + f.min : undefined;
}

/** Why one cron field is not in robfig/cron's standard grammar, or undefined. */
function fieldProblem(field: string, f: (typeof FIELDS)[number]): string | undefined {
  for (const part of field.split(",")) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!m) return `${f.name} "${field}" is not a value, range, list or step`;
    const [, range, step] = m;
    if (step !== undefined && Number(step) < 1) return `${f.name} step "${step}" must be at least 1`;
    if (range === "*" || range === "?") continue;
    const bounds = range.split("-");
    if (bounds.length > 2) return `${f.name} "${range}" is not a range`;
    const values = bounds.map((b) => fieldValue(b, f));
    if (values.some((v) => v === undefined || v < f.min || v > f.max))
      return `${f.name} "${range}" is outside ${f.min}-${f.max}`;
    if (values.length === 2 && values[0]! > values[1]!) return `${f.name} range "${range}" runs backwards`;
  }
  return undefined;
}

/** Why `spec` is not a schedule K3s's snapshot cron accepts, or undefined when it is. */
export function cronProblem(spec: string): string | undefined {
  const s = spec.trim();
  if (s.startsWith("@")) {
    if (DESCRIPTORS.includes(s)) return undefined;
    const every = /^@every (?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(s);
    if (every && every.slice(1).some((v) => v !== undefined)) {
      return every.slice(1).some((v) => Number(v ?? 0) > 0) ? undefined : `"${s}" is a zero interval`;
    }
    return `"${s}" is not one of ${DESCRIPTORS.join(", ")} or @every <duration>`;
  }
  const fields = s.split(/\s+/);
  if (fields.length !== 5)
    return `"${s}" has ${fields.length} field${fields.length === 1 ? "" : "s"}; K3s takes five (minute hour day-of-month month day-of-week)`;
  for (let i = 0; i < 5; i++) {
    const p = fieldProblem(fields[i], FIELDS[i]);
    if (p) return p;
  }
  return undefined;
}
