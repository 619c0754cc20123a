// `dumont watch`: health checks, standby sync, automatic failover, until Ctrl-C — for one stack, or
// for every stack matching `--stacks`; `--install-service` makes it a systemd service instead.
import { UsageError } from "../../lib/errors.ts";
import { defineCommand } from "../cli/command.ts";
import { stackOption } from "../cli/shared-options.ts";

// Loaded when the command runs, not when `dumont --help` lists it: they bring Pulumi, ssh2, the AWS SDK.
const installModule = () => import("../../stacks/service/install.ts");
const systemdUnitModule = () => import("../../stacks/service/systemd-unit.ts");
const watchLoopModule = () => import("../../stacks/watch.ts");
const watchManyModule = () => import("../../stacks/watch-many.ts");

export const watchCommand = defineCommand({
  path: ["watch"],
  summary: "watch the active GPU (SSH + Vast status), sync the standby, fail over after FAILOVER_THRESHOLD failed checks; JSON lines on stdout",
  options: {
    stack: { ...stackOption, meaning: "the stack to watch; its settings dumont:healthCheckInterval, syncInterval, failoverThreshold, autoFailover, autoRecovery and controllerLeaseSeconds say how" },
    stacks: { type: "string", value: "PATTERNS", absent: "only --stack", meaning: "watch every stack matching these comma-separated names or shell wildcard patterns ('prod-*,staging'), each independently, in one process" },
    "install-service": { type: "boolean", meaning: "instead of watching, install and start the watch as a systemd service (needs root; credentials go to a 0600 environment file)" },
    "print-service": { type: "boolean", meaning: "instead of watching, print the systemd unit --install-service would install" },
  },
  exclusive: [["stack", "stacks"], ["install-service", "print-service"]],
  async action({ values }) {
    const patterns = values.stacks !== undefined ? values.stacks.split(",").map((p) => p.trim()).filter(Boolean) : undefined;
    if (patterns?.length === 0) throw new UsageError("--stacks needs at least one stack name or pattern, e.g. --stacks 'prod-*'");
    const stacks = patterns ?? [values.stack];
    if (values["print-service"]) return void process.stdout.write((await systemdUnitModule()).systemdUnit((await installModule()).watchServiceFor(stacks)));
    if (values["install-service"]) {
      const installed = (await installModule()).installWatchService(stacks);
      console.log(`wrote ${installed.unitFile} and its environment ${installed.environmentFile} (mode 600)`);
      console.log(installed.started ? `${installed.name} is enabled and running: journalctl -u ${installed.name} -f` : `systemd does not run here; start it where it does with: systemctl enable --now ${installed.name}`);
      return;
    }
    const controller = new AbortController();
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => controller.abort());
    if (patterns) await (await watchManyModule()).watchMany({ patterns, signal: controller.signal });
    else await (await watchLoopModule()).watch({ stack: stacks[0]!, signal: controller.signal });
  },
});
