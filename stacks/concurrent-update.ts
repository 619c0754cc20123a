// Waiting out another update of the same stack (a second `dumont` process, or a cancelled `up`
// still finishing) instead of breaking Pulumi's lock on it.
import { setTimeout as sleep } from "node:timers/promises";
import { ConcurrentUpdateError } from "@pulumi/pulumi/automation/index.js";

export interface WaitOptions {
  readonly progress: (line: string) => void;
  readonly intervalMs?: number;
  readonly attempts?: number;
  readonly signal?: AbortSignal;
}

/** Runs a stack operation; while another update holds the stack, waits and tries again. */
export async function whenStackFree<T>(work: () => Promise<T>, options: WaitOptions): Promise<T> {
  const attempts = options.attempts ?? 120;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || attempt >= attempts) throw error;
      if (attempt === 1) options.progress("  another update of this stack is running; waiting for it");
      await sleep(options.intervalMs ?? 5000);
    }
  }
}
