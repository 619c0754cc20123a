// Installing the watch service: the environment file (0600, in the controller's private state
// folder), the unit, and — where systemd runs — enabling and starting it. Where it does not (a
// container, a machine without systemd), the files are written and the user is told what to run.
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { EnvironmentError } from "../../lib/errors.ts";
import { repoRoot, stateDir } from "../../lib/tools/paths.ts";
import { makePrivateDir, privateFileMode } from "../../lib/tools/private-dir.ts";
import { serviceEnvironment, serviceName, systemdUnit, type WatchService } from "./systemd-unit.ts";

export interface InstalledService {
  readonly name: string;
  readonly unitFile: string;
  readonly environmentFile: string;
  /** True when systemd runs here and the service was enabled and started. */
  readonly started: boolean;
}

export function watchServiceFor(stacks: readonly string[]): WatchService {
  const name = serviceName(stacks);
  return {
    name, stacks, node: process.execPath, dumontScript: path.join(repoRoot, "bin", "dumont.ts"), workingDirectory: repoRoot,
    environmentFile: path.join(stateDir, "service", `${name}.env`),
    // Installed with sudo, the service still runs as the person whose checkout and state it uses.
    user: process.env.SUDO_USER && process.env.SUDO_USER !== "root" ? process.env.SUDO_USER : undefined,
  };
}

export function installWatchService(stacks: readonly string[], env: NodeJS.ProcessEnv = process.env, unitFolder = "/etc/systemd/system"): InstalledService {
  if (process.getuid?.() !== 0) throw new EnvironmentError("installing a system service needs root", "run it with sudo -E, or see `dumont watch --print-service` to install it yourself");
  if (!existsSync(unitFolder)) throw new EnvironmentError(`${unitFolder} does not exist: this machine has no systemd`, "run `dumont watch --stacks …` under your own supervisor (see `dumont watch --print-service`)");
  const service = watchServiceFor(stacks);
  makePrivateDir(path.dirname(service.environmentFile));
  writeFileSync(service.environmentFile, serviceEnvironment(env), { mode: privateFileMode });
  const unitFile = path.join(unitFolder, `${service.name}.service`);
  writeFileSync(unitFile, systemdUnit(service), { mode: 0o644 });
  const systemdRuns = existsSync("/run/systemd/system");
  if (systemdRuns) {
    execFileSync("systemctl", ["daemon-reload"], { stdio: "inherit" });
    execFileSync("systemctl", ["enable", "--now", `${service.name}.service`], { stdio: "inherit" });
  }
  return { name: service.name, unitFile, environmentFile: service.environmentFile, started: systemdRuns };
}
