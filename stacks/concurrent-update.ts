// Waiting out another update of the same stack (a second `dumont` process, or a cancelled `up`
// still finishing) instead of breaking Pulumi's lock on it — unless the lock's holder is dead (a
// controller killed during an `up`): then the lock is cancelled and the state refreshed, instead
// of being waited on forever.
import { readdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConcurrentUpdateError, type Stack } from "@pulumi/pulumi/automation/index.js";
import { retry } from "../lib/retry.ts";
import { engineProgress } from "./engine-output.ts";

export interface WaitOptions {
  readonly progress: (line: string) => void;
  readonly intervalMs?: number;
  readonly attempts?: number;
  readonly signal?: AbortSignal;
  /** The stack whose lock may be stale; without it, a stale lock is waited on like a live one. */
  readonly stack?: Stack;
}

interface LockContent {
  readonly pid?: number;
  readonly hostname?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The holders of a file backend's locks on this stack (.pulumi/locks/<org>/<project>/<stack>/*.json,
 * written by the engine with its pid and host name).
 */
export function lockHolders(backendUrl: string | undefined, stack: string): LockContent[] {
  if (!backendUrl?.startsWith("file://")) return [];
  const root = path.join(fileURLToPath(backendUrl), ".pulumi", "locks");
  const holders: LockContent[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory() && depth < 4) walk(full, depth + 1);
      else if (e.isFile() && e.name.endsWith(".json") && path.basename(dir) === stack) {
        try {
          holders.push(JSON.parse(readFileSync(full, "utf8")) as LockContent);
        } catch {
          holders.push({});
        }
      }
    }
  };
  walk(root, 0);
  return holders;
}

/** A lock held by a process of this machine that no longer exists. */
export function heldByTheDead(holders: readonly LockContent[], host = hostname()): boolean {
  return holders.length > 0 && holders.every((h) => h.hostname === host && typeof h.pid === "number" && !alive(h.pid));
}

/**
 * Runs a stack operation; while another update holds the stack, waits and tries again (every
 * `intervalMs`, `attempts` tries in all). A lock whose holder is dead is cancelled, the state
 * refreshed, and the operation run again at once.
 */
export async function whenStackFree<T>(work: () => Promise<T>, options: WaitOptions): Promise<T> {
  const stack = options.stack;
  return retry(async () => {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || !stack || !heldByTheDead(lockHolders((stack.workspace as { envVars?: Record<string, string> }).envVars?.PULUMI_BACKEND_URL ?? process.env.PULUMI_BACKEND_URL, stack.name))) throw error;
      options.progress("  the update that locked this stack was killed: cancelling its lock and refreshing the state");
      await stack.cancel();
      await stack.refresh({ onOutput: engineProgress(options.progress) });
      return await work();
    }
  }, {
    attempts: options.attempts ?? 120,
    backoff: { firstMs: options.intervalMs ?? 5000, factor: 1 },
    signal: options.signal,
    retryIf: (error) => error instanceof ConcurrentUpdateError,
    onRetry: ({ attempt }) => {
      if (attempt === 1) options.progress("  another update of this stack is running; waiting for it");
    },
  });
}
