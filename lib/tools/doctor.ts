// `dumont doctor`: every tool and service Dumont uses, where it is, which version, and for what is
// missing, how to get it. Checks run the tools themselves; nothing is inferred from stamps.
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { toolEnvironment } from "./environment.ts";
import { pinnedVersions } from "./versions.ts";
import { which } from "./which.ts";

export type ToolStatus = "ok" | "missing" | "wrong-version";

export interface ToolReport {
  readonly name: string;
  readonly purpose: string;
  readonly status: ToolStatus;
  readonly required: boolean;
  readonly path?: string;
  readonly version?: string;
  readonly expected?: string;
  readonly fix?: string;
}

interface ToolCheck {
  readonly name: string;
  readonly purpose: string;
  /** Command looked up on the project's PATH, or an absolute path resolved at check time. */
  readonly locate: (env: Record<string, string>) => string | undefined;
  readonly versionArgs: readonly string[];
  readonly versionPattern: RegExp;
  readonly expected?: string;
  readonly fix: string;
  readonly required: boolean;
}

const setupFix = "run `bash setup/setup.sh` (or any README command, which runs it first)";

function onPath(command: string) {
  return (env: Record<string, string>) => which(command, env.PATH);
}

/** Bundled plugins must sit next to the real pulumi binary (the engine looks there after symlinks). */
function besidePulumi(file: string) {
  return (env: Record<string, string>) => {
    const pulumi = onPath("pulumi")(env);
    if (!pulumi) return undefined;
    const candidate = path.join(path.dirname(realpathSync(pulumi)), file);
    return existsSync(candidate) ? candidate : onPath(file)(env);
  };
}

function inPluginCache(kind: string, name: string, version: string) {
  return (env: Record<string, string>) => {
    const candidate = path.join(env.PULUMI_HOME ?? "", "plugins", `${kind}-${name}-v${version}`, `pulumi-${kind}-${name}`);
    return existsSync(candidate) ? candidate : undefined;
  };
}

function debian(command: string, pkg: string, versionArgs: readonly string[], versionPattern: RegExp, purpose: string): ToolCheck {
  return {
    name: command, purpose, versionArgs, versionPattern, required: true,
    locate: (env) => onPath(command)({ PATH: `${env.PATH}${path.delimiter}/usr/sbin${path.delimiter}/sbin` }),
    fix: `apt-get install -y ${pkg} (setup does this when run as root)`,
  };
}

export function toolChecks(): ToolCheck[] {
  const v = pinnedVersions();
  return [
    {
      name: "node", purpose: "runs Dumont and Pulumi programs (npm package node@" + v.NODE_VERSION + ")",
      locate: onPath("node"), versionArgs: ["--version"], versionPattern: /v(\d+\.\d+\.\d+)/,
      expected: v.NODE_VERSION, fix: setupFix, required: true,
    },
    {
      name: "pulumi", purpose: "the Pulumi engine (CLI)", locate: onPath("pulumi"),
      versionArgs: ["version"], versionPattern: /v?(\d+\.\d+\.\d+)/, expected: v.PULUMI_VERSION,
      fix: setupFix + "; it builds the CLI from Pulumi's Go modules (needs Go " + v.GO_MIN_VERSION + "+)", required: true,
    },
    {
      name: "pulumi-language-nodejs", purpose: "the engine's Node.js language host (plain `pulumi up`)",
      locate: besidePulumi("pulumi-language-nodejs"), versionArgs: [], versionPattern: /$^/,
      fix: setupFix, required: true,
    },
    {
      name: "pulumi-language-yaml", purpose: "the engine's YAML language host (examples/yaml, the component package)",
      locate: besidePulumi("pulumi-language-yaml"), versionArgs: [], versionPattern: /$^/,
      fix: setupFix, required: false,
    },
    {
      name: "pulumi-resource-pulumi-nodejs", purpose: "the dynamic-provider plugin shim",
      locate: besidePulumi("pulumi-resource-pulumi-nodejs"), versionArgs: [], versionPattern: /$^/,
      fix: setupFix, required: true,
    },
    {
      name: "pulumi-resource-command", purpose: "the @pulumi/command provider plugin",
      locate: inPluginCache("resource", "command", v.COMMAND_VERSION), versionArgs: [], versionPattern: /$^/,
      expected: v.COMMAND_VERSION, fix: setupFix, required: true,
    },
    {
      name: "minio", purpose: "the local cloud's S3 server (stands in for B2)", locate: onPath("minio"),
      versionArgs: ["--version"], versionPattern: /version (\S+)/, fix: setupFix, required: true,
    },
    {
      // mc prints no version of its own when built from its module; setup's folder name pins it.
      name: "mc", purpose: "MinIO's admin client: the local cloud's B2 keys become MinIO users", locate: onPath("mc"),
      versionArgs: [], versionPattern: /$^/, fix: setupFix, required: true,
    },
    {
      name: "s5cmd", purpose: "S3 transfers in benchmarks and manual recipes", locate: onPath("s5cmd"),
      versionArgs: ["version"], versionPattern: /v?(\d+\.\d+\.\d+)/, expected: v.S5CMD_VERSION, fix: setupFix, required: true,
    },
    {
      name: "go", purpose: "builds the Pulumi engine, MinIO, mc and s5cmd (setup only)", locate: onPath("go"),
      versionArgs: ["version"], versionPattern: /go(\d+\.\d+(?:\.\d+)?)/, fix: "install Go " + v.GO_MIN_VERSION + "+ from https://go.dev/dl (only needed to build the tools)",
      required: false,
    },
    debian("sshd", "openssh-server", ["-V"], /OpenSSH_([^,\s]+)/, "SSH server of local-cloud hosts"),
    debian("ssh-keygen", "openssh-client", ["-V"], /OpenSSH_([^,\s]+)/, "host and user keys"),
    debian("rsync", "rsync", ["--version"], /version (\S+)/, "standby sync"),
    debian("lz4", "lz4", ["--version"], /v(\d+\.\d+\.\d+)/, "snapshot compression"),
    debian("ip", "iproute2", ["-V"], /iproute2-([\d.]*\d)/, "network namespaces of local-cloud hosts"),
    debian("unshare", "util-linux", ["--version"], /util-linux (\S+)/, "mount namespaces of local-cloud hosts"),
    debian("nsenter", "util-linux", ["--version"], /util-linux (\S+)/, "running commands inside local-cloud hosts"),
    debian("curl", "curl", ["--version"], /curl (\S+)/, "hosts' transfers to presigned URLs"),
    debian("tar", "tar", ["--version"], /tar\) (\S+)/, "snapshot archives"),
    debian("md5sum", "coreutils", ["--version"], /coreutils\) (\S+)/, "file validation"),
    {
      ...debian("restic", "restic", ["version"], /restic (\S+)/, "benchmark baseline (npm run bench)"),
      required: false,
    },
  ];
}

function runCheck(check: ToolCheck, env: Record<string, string>): ToolReport {
  const base = { name: check.name, purpose: check.purpose, required: check.required, expected: check.expected };
  const found = check.locate(env);
  if (!found) return { ...base, status: "missing", fix: check.fix };
  if (check.versionArgs.length === 0) return { ...base, status: "ok", path: found };
  // Some tools (sshd -V) print their version to stderr, some exit non-zero: read both streams.
  const result = spawnSync(found, [...check.versionArgs], {
    env: { ...process.env, ...env }, encoding: "utf8", timeout: 15_000,
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  const version = check.versionPattern.exec(output)?.[1];
  if (check.expected && version !== check.expected) {
    return { ...base, status: "wrong-version", path: found, version, fix: check.fix };
  }
  return { ...base, status: "ok", path: found, version };
}

export function runDoctor(): ToolReport[] {
  const env = toolEnvironment();
  return toolChecks().map((check) => runCheck(check, env));
}

export function formatDoctor(reports: readonly ToolReport[]): string {
  const width = Math.max(...reports.map((r) => r.name.length));
  const lines = reports.map((r) => {
    const mark = r.status === "ok" ? "ok " : r.required ? "ERR" : "-- ";
    const detail =
      r.status === "ok"
        ? `${r.version ?? ""}${r.version ? "  " : ""}${r.path}`
        : r.status === "wrong-version"
          ? `${r.version ?? "unknown version"} at ${r.path}, want ${r.expected}: ${r.fix}`
          : `missing${r.required ? "" : " (optional)"}: ${r.fix}`;
    return `${mark} ${r.name.padEnd(width)}  ${detail}`;
  });
  return lines.join("\n");
}
