// `dumont watch --install-service`: the watch as a systemd service, so it outlives the terminal
// that started it and comes back after a crash or a reboot. The unit names no secret: what the
// watch needs from the environment (backend, passphrase file, state folder, cloud credentials) goes
// into an environment file only its owner can read, and the unit points at it.
import { SettingError } from "../../lib/errors.ts";
import { dumontNodeEnvironmentWords, dumontNodeFlags } from "../../lib/tools/node-flags.ts";
import { credentialVariables } from "../credential-variables.ts";

export interface WatchService {
  /** The unit's name without ".service", e.g. "dumont-watch-prod". */
  readonly name: string;
  readonly stacks: readonly string[];
  readonly node: string;
  readonly dumontScript: string;
  readonly workingDirectory: string;
  readonly environmentFile: string;
  /** Who the watch runs as: the user whose checkout and state it is, never root by accident. */
  readonly user?: string;
}

/** Variables the service's environment file carries: where state is, and who Dumont is on each cloud. */
const placeVariables = ["PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_CONFIG_PASSPHRASE", "DUMONT_STATE_DIR", "DUMONT_TOOLS_DIR", "PULUMI_HOME"];

/** A unit name for a set of stack patterns: "dumont-watch-prod-x" (systemd allows [A-Za-z0-9:_.\-]). */
export function serviceName(stacks: readonly string[]): string {
  const slug = stacks.join("-").replace(/\*/g, "all").replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80);
  return `dumont-watch-${slug || "stacks"}`;
}

/** systemd's own quoting for one ExecStart word: double quotes, with \ and " escaped and % doubled. */
function systemdWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) && !word.includes("%") ? word : `"${word.replace(/[\\"]/g, "\\$&").replace(/%/g, "%%")}"`;
}

export function systemdUnit(service: WatchService): string {
  const exec = [service.node, ...dumontNodeFlags, service.dumontScript, "watch", "--stacks", service.stacks.join(",")].map(systemdWord).join(" ");
  return `[Unit]
Description=Dumont health watch and failover for stacks ${service.stacks.join(", ")}
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
${service.user ? `User=${systemdWord(service.user)}\n` : ""}WorkingDirectory=${systemdWord(service.workingDirectory)}
EnvironmentFile=${systemdWord(service.environmentFile)}
${dumontNodeEnvironmentWords.map((word) => `Environment=${systemdWord(word)}\n`).join("")}ExecStart=${exec}
# SIGTERM lets a failover in progress finish its step; a watch started again resumes what is left.
KillSignal=SIGTERM
TimeoutStopSec=600
Restart=always
RestartSec=10
UMask=0077
NoNewPrivileges=yes

[Install]
WantedBy=multi-user.target
`;
}

/**
 * The environment file: the variables of `env` the watch needs, as KEY='value' lines (systemd takes
 * a single-quoted value literally, newlines included; it has no escape for a quote inside one).
 */
export function serviceEnvironment(env: Readonly<Record<string, string | undefined>>): string {
  const names = [...placeVariables, ...credentialVariables];
  return names.filter((n) => env[n] !== undefined && env[n] !== "").map((n) => {
    if (env[n]!.includes("'")) throw new SettingError(n, "holds a single quote, which a systemd environment file cannot carry", "use a value without one (e.g. a credentials file path)");
    return `${n}='${env[n]}'\n`;
  }).join("");
}
