// `dumont watch`: health checks, standby sync, automatic failover, until Ctrl-C — for one stack, or
// for every stack matching `--stacks`; `--install-service` makes it a systemd service instead.
import { parseArgs } from "node:util";
import { UsageError } from "../../harness/errors.ts";
import { installWatchService, watchServiceFor } from "../../stacks/service/install.ts";
import { systemdUnit } from "../../stacks/service/systemd-unit.ts";
import { watch } from "../../stacks/watch.ts";
import { watchMany } from "../../stacks/watch-many.ts";
import type { Command } from "./types.ts";

export const watchCommand: Command = {
  path: ["watch"],
  summary: "watch the active GPU (SSH + Vast status), sync the standby, fail over after FAILOVER_THRESHOLD failed checks",
  usage: "[--stack S | --stacks 'prod-*,staging'] [--install-service | --print-service]   (JSON lines on stdout, each with \"role\":\"active\"|\"waiting\"; settings: dumont:healthCheckInterval, syncInterval, failoverThreshold, autoFailover, autoRecovery, controllerLeaseSeconds)",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        stack: { type: "string" }, stacks: { type: "string" },
        "install-service": { type: "boolean", default: false }, "print-service": { type: "boolean", default: false },
      },
    });
    if (values.stack !== undefined && values.stacks !== undefined) throw new UsageError("give --stack or --stacks, not both");
    const patterns = values.stacks !== undefined ? values.stacks.split(",").map((p) => p.trim()).filter(Boolean) : undefined;
    if (patterns?.length === 0) throw new UsageError("--stacks needs at least one stack name or pattern, e.g. --stacks 'prod-*'");
    const stacks = patterns ?? [values.stack ?? "local"];
    if (values["print-service"]) return void process.stdout.write(systemdUnit(watchServiceFor(stacks)));
    if (values["install-service"]) {
      const installed = installWatchService(stacks);
      console.log(`wrote ${installed.unitFile} and its environment ${installed.environmentFile} (mode 600)`);
      console.log(installed.started ? `${installed.name} is enabled and running: journalctl -u ${installed.name} -f` : `systemd does not run here; start it where it does with: systemctl enable --now ${installed.name}`);
      return;
    }
    const controller = new AbortController();
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => controller.abort());
    if (patterns) await watchMany({ patterns, signal: controller.signal });
    else await watch({ stack: stacks[0]!, signal: controller.signal });
  },
};
