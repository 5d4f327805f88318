/**
 * How K3s runs on a host: a systemd unit in K3s's install.sh conventions, or
 * (hosts without systemd, e.g. the lab's containers) a small supervisor loop.
 * The host config chooses; nothing here probes the host.
 */
import type { NodeRole } from "./k3sConfig";

export type ServiceMode = "systemd" | "supervise";

/** install.sh: `k3s` for servers, `k3s-<cmd>` otherwise (setup_env, SYSTEM_NAME). */
export function serviceName(role: NodeRole): string {
  return role === "server" ? "k3s" : "k3s-agent";
}

/** Where the supervisor runs K3s from and keeps its pid and log, by K3s's install.sh conventions. */
export interface ServicePaths {
  binDir: string;
  pidFile: string;
  logFile: string;
}

export function defaultPaths(role: NodeRole): ServicePaths {
  const name = serviceName(role);
  return {
    binDir: "/usr/local/bin",
    pidFile: `/run/${name}-supervise.pid`,
    logFile: "/var/log/k3s.log",
  };
}

export interface SystemdUnitArgs {
  role: NodeRole;
  binDir?: string;
  systemdDir?: string;
}

/**
 * The unit install.sh writes (create_systemd_service_file), with the command
 * line reduced to `k3s server|agent`: every flag lives in config.yaml, so
 * nothing (least of all the token) is on the command line, and a config
 * change never needs a new unit.
 */
export function renderSystemdUnit(args: SystemdUnitArgs): string {
  const binDir = args.binDir ?? "/usr/local/bin";
  const systemdDir = args.systemdDir ?? "/etc/systemd/system";
  const name = serviceName(args.role);
  return [
    "# Managed by Edgefleet (Pulumi), after K3s's install.sh unit.",
    "[Unit]",
    "Description=Lightweight Kubernetes",
    "Documentation=https://k3s.io",
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
    "[Service]",
    "Type=notify",
    "EnvironmentFile=-/etc/default/%N",
    "EnvironmentFile=-/etc/sysconfig/%N",
    `EnvironmentFile=-${systemdDir}/${name}.service.env`,
    "KillMode=process",
    "Delegate=yes",
    "User=root",
    "# Having non-zero Limit*s causes performance problems due to accounting overhead",
    "# in the kernel. We recommend using cgroups to do container-local accounting.",
    "LimitNOFILE=1048576",
    "LimitNPROC=infinity",
    "LimitCORE=infinity",
    "TasksMax=infinity",
    "TimeoutStartSec=0",
    "Restart=always",
    "RestartSec=5s",
    "ExecStartPre=-/sbin/modprobe br_netfilter",
    "ExecStartPre=-/sbin/modprobe overlay",
    `ExecStart=${binDir}/k3s ${args.role}`,
    "",
  ].join("\n");
}

/** Names install.sh carries into the env file (create_env_file): K3S_*, CONTAINERD_*, proxies. */
const ENV_NAME_RE = /^((K3S|CONTAINERD)_[A-Z0-9_]+|(NO|HTTP|HTTPS)_PROXY|(no|http|https)_proxy)$/;
/** Unquoted-safe in both a systemd EnvironmentFile and a POSIX shell `. file`. */
const ENV_VALUE_RE = /^[A-Za-z0-9_./:,=@+%-]*$/;

/**
 * The env file next to the unit (install.sh: `<unit>.env`, mode 0600). It is
 * also sourced by the supervisor, so values are limited to characters that
 * mean the same to systemd and to sh. Token variables are refused: the token
 * lives in the token file only.
 */
export function renderEnvFile(env: Record<string, string>): string {
  const lines: string[] = ["# Managed by Edgefleet (Pulumi). Mode 0600."];
  for (const k of Object.keys(env).sort()) {
    if (!ENV_NAME_RE.test(k)) throw new Error(`env file: "${k}" is not a K3S_*, CONTAINERD_* or proxy variable`);
    if (/^K3S_(TOKEN|AGENT_TOKEN|CLUSTER_SECRET)$/.test(k)) {
      throw new Error(
        `env file: ${k} is not allowed; the join token is read from the token file (token-file in config.yaml)`,
      );
    }
    const v = env[k];
    if (!ENV_VALUE_RE.test(v)) throw new Error(`env file: value of ${k} has characters outside [A-Za-z0-9_./:,=@+%-]`);
    lines.push(`${k}=${v}`);
  }
  return lines.join("\n") + "\n";
}

export interface SupervisorArgs {
  role: NodeRole;
  binDir?: string;
  envFile?: string;
  logFile?: string;
  pidFile?: string;
  /** Seconds between an exit of k3s and its restart. */
  restartDelaySeconds?: number;
}

const PATH_RE = /^\/[A-Za-z0-9_./-]*$/;

/**
 * A supervisor for hosts without systemd: run `k3s <role>`, restart it when
 * it exits, stop it (and only it) on TERM. service.sh starts it under setsid
 * with its own pid file; K3s's containers live on in containerd-shims across
 * restarts, as they do under systemd's KillMode=process.
 */
export function renderSupervisor(args: SupervisorArgs): string {
  const d = defaultPaths(args.role);
  const binDir = args.binDir ?? d.binDir;
  const envFile = args.envFile ?? `/etc/rancher/k3s/${serviceName(args.role)}.env`;
  const logFile = args.logFile ?? d.logFile;
  const pidFile = args.pidFile ?? d.pidFile;
  const delay = args.restartDelaySeconds ?? 5;
  for (const [n, p] of Object.entries({ binDir, envFile, logFile, pidFile })) {
    if (!PATH_RE.test(p)) throw new Error(`supervisor: ${n} "${p}" must be an absolute path of [A-Za-z0-9_./-]`);
  }
  if (!Number.isInteger(delay) || delay < 1)
    throw new Error(`supervisor: restartDelaySeconds must be a positive integer`);
  return `#!/usr/bin/env bash
# Managed by Edgefleet (Pulumi): keeps \`k3s ${args.role}\` running on a host without systemd.
set -uo pipefail
# systemd's default service PATH: K3s finds Wasm shims (and crun, nvidia) on PATH at start.
export PATH=${binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
pidfile=${pidFile}
log=${logFile}
child=
stopping=
stop() {
  stopping=1
  if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; fi
  rm -f "$pidfile"
  exit 0
}
trap stop TERM INT
echo "$$" >"$pidfile"
while [ -z "$stopping" ]; do
  if [ -f ${envFile} ]; then
    set -a
    # shellcheck disable=SC1091
    . ${envFile}
    set +a
  fi
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) edgefleet-supervise: starting k3s ${args.role}" >>"$log"
  ${binDir}/k3s ${args.role} </dev/null >>"$log" 2>&1 &
  child=$!
  wait "$child"
  status=$?
  child=
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) edgefleet-supervise: k3s exited with status $status; restarting in ${delay}s" >>"$log"
  sleep ${delay} &
  wait $!
done
`;
}
