// The environment every Pulumi invocation of Dumont runs in: the project's tools first on PATH,
// a project-local plugin cache, no network lookups by the engine, a file backend in .state/, and a
// generated passphrase for the passphrase secrets provider. `dumont env` prints it for a shell.
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { repoRoot, stateDir, toolsDir } from "./paths.ts";
import { makePrivateDir, privateFileMode, tightenCheckoutState } from "./private-dir.ts";

export const passphraseFile = path.join(stateDir, "pulumi-passphrase");
export const defaultBackendUrl = `file://${path.join(stateDir, "pulumi")}`;

export interface ToolEnvironmentOptions {
  /** The environment to extend; settings already there (a backend, a passphrase) win. */
  readonly base?: NodeJS.ProcessEnv;
}

/** Variables to set (not the whole environment): PATH and the PULUMI_* settings. */
export function toolEnvironment(options: ToolEnvironmentOptions = {}): Record<string, string> {
  const base = options.base ?? process.env;
  const projectPath = [path.join(toolsDir, "bin"), path.join(repoRoot, "node_modules", ".bin")];
  // npm/npx put their own helper folders on PATH; a shell that evals our exports should not keep them.
  const inheritedPath = (base.PATH ?? "")
    .split(path.delimiter)
    .filter((p) => p && !projectPath.includes(p) && !p.includes("@npmcli/run-script"));
  const env: Record<string, string> = {
    PATH: [...projectPath, ...inheritedPath].join(path.delimiter),
    PULUMI_HOME: base.PULUMI_HOME ?? path.join(toolsDir, "pulumi-home"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_BACKEND_URL: base.PULUMI_BACKEND_URL ?? defaultBackendUrl,
  };
  if (base.PULUMI_CONFIG_PASSPHRASE === undefined) {
    env.PULUMI_CONFIG_PASSPHRASE_FILE = base.PULUMI_CONFIG_PASSPHRASE_FILE ?? passphraseFile;
  }
  return env;
}

/**
 * Creates the local passphrase on first use. It protects the secrets in local stacks' config and
 * state; it is random per checkout and never printed.
 */
export function ensurePassphrase(): void {
  // Every stack is opened through here: the state folder is private before anything is put in it.
  tightenCheckoutState();
  if (existsSync(passphraseFile)) return;
  makePrivateDir(path.dirname(passphraseFile));
  writeFileSync(passphraseFile, randomBytes(24).toString("base64url"), { mode: privateFileMode, flag: "wx" });
}

/**
 * What a stack needs before the engine opens it: the passphrase, and the backend's folder when the
 * backend is a file backend (the engine refuses a folder that does not exist).
 */
export function ensureStackStorage(backendUrl: string = toolEnvironment().PULUMI_BACKEND_URL!): void {
  ensurePassphrase();
  if (backendUrl.startsWith("file://")) makePrivateDir(backendUrl.slice("file://".length));
}

/**
 * Applies the tool environment to this process, so child processes and the Automation API see it.
 * It writes nothing: the passphrase and the backend folder are made when a stack is first opened.
 */
export function applyToolEnvironment(): void {
  Object.assign(process.env, toolEnvironment());
}

/** Shell `export` lines for `eval "$(npx dumont env)"`. */
export function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([key, value]) => `export ${key}=${shellQuote(value)}`)
    .join("\n");
}

export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_\-./:=@%+,]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

