// One `dumont watch` for many stacks (`--stacks 'prod-*'`): each stack gets a watch of its own,
// with its own lease, checks and failovers, in one process. A stack that cannot be watched right now
// (its state unreadable, its settings broken) is reported and tried again later with backoff; it
// never stops or slows the others.
import { readdirSync } from "node:fs";
import path from "node:path";
import { SettingError } from "../lib/errors.ts";
import { nominalDelayMs, retry, type Backoff } from "../lib/retry.ts";
import { watch } from "./watch.ts";
import { stackConfigFile } from "./stack-files.ts";

/** Stacks with a settings file (stacks/Pulumi.<stack>.yaml) whose names match any of the globs. */
export function stacksMatching(patterns: readonly string[], folder = path.dirname(stackConfigFile("x"))): string[] {
  const names = readdirSync(folder).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((n): n is string => n !== undefined);
  return names.filter((name) => patterns.some((p) => path.matchesGlob(name, p))).sort();
}

/** The waits before watching a stack again: 5 s after its first failure, doubling, at most 5 minutes. */
const restartBackoff: Backoff = { firstMs: 5000, factor: 2, maxMs: 300_000 };

/** Seconds before watching a stack again after its watch failed `failures` times in a row. */
export function restartDelaySeconds(failures: number): number {
  return nominalDelayMs(restartBackoff, failures) / 1000;
}

export interface WatchManyOptions {
  readonly patterns: readonly string[];
  readonly log?: (event: Record<string, unknown>) => void;
  readonly signal?: AbortSignal;
}

export async function watchMany(options: WatchManyOptions): Promise<void> {
  const log = options.log ?? ((event) => console.log(JSON.stringify(event)));
  const stacks = stacksMatching(options.patterns);
  if (stacks.length === 0) {
    throw new SettingError("--stacks", `no stack matches ${options.patterns.map((p) => `'${p}'`).join(", ")}`, "stacks are the files stacks/Pulumi.<stack>.yaml");
  }
  log({ event: "watching-stacks", stacks });
  await Promise.all(stacks.map(async (stack) => {
    await retry(() => watch({ stack, signal: options.signal, log: (event) => log({ stack, ...event }) }), {
      attempts: Number.POSITIVE_INFINITY,
      backoff: restartBackoff,
      signal: options.signal,
      onRetry: ({ error, delayMs }) => log({ event: "watch-error", role: "waiting", stack, error: (error as Error).message.split("\n")[0], retryInSeconds: delayMs / 1000 }),
    }).catch((error: unknown) => {
      // Stopped: the stack's watch ends quietly, like the others.
      if (!options.signal?.aborted) throw error;
    });
  }));
}
