// `dumont watch`: health checks, standby sync, automatic failover, until Ctrl-C.
import { parseArgs } from "node:util";
import { watch } from "../../stacks/watch.ts";
import type { Command } from "./types.ts";

export const watchCommand: Command = {
  path: ["watch"],
  summary: "watch the active GPU (SSH + Vast status), sync the standby, fail over after FAILOVER_THRESHOLD failed checks",
  usage: "[--stack S]   (JSON lines on stdout; settings: dumont:healthCheckInterval, syncInterval, failoverThreshold, autoFailover, autoRecovery)",
  async run(args) {
    const { values } = parseArgs({ args, options: { stack: { type: "string", default: "local" } } });
    const controller = new AbortController();
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => controller.abort());
    await watch({ stack: values.stack!, signal: controller.signal });
  },
};
