// One operation at a time per stack (failover, sync): a lock file in .state/locks, taken with an
// exclusive create. A second operation waits for the first instead of breaking in; a lock whose
// process is gone (a controller killed mid-failover) is taken over.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isAlive } from "../../harness/local-cloud/endpoints.ts";
import { stateDir } from "../../harness/tools/paths.ts";

export function lockFile(stack: string): string {
  return path.join(stateDir, "locks", `${stack}.lock`);
}

interface Holder {
  readonly pid: number;
  readonly operation: string;
  readonly since: string;
}

function tryTake(file: string, operation: string): Holder | undefined {
  mkdirSync(path.dirname(file), { recursive: true });
  try {
    writeFileSync(file, JSON.stringify({ pid: process.pid, operation, since: new Date().toISOString() }), { flag: "wx" });
    return undefined;
  } catch {
    try {
      return JSON.parse(readFileSync(file, "utf8")) as Holder;
    } catch {
      return { pid: 0, operation: "unknown", since: "" };
    }
  }
}

export async function withStackLock<T>(
  stack: string, operation: string, work: () => Promise<T>,
  options: { timeoutMs?: number; onWait?: (holder: Holder) => void } = {},
): Promise<T> {
  const file = lockFile(stack);
  const deadline = Date.now() + (options.timeoutMs ?? 3 * 3600_000);
  let announced = false;
  for (;;) {
    const holder = tryTake(file, operation);
    if (!holder) break;
    if (holder.pid !== process.pid && (holder.pid === 0 || !isAlive(holder.pid))) {
      rmSync(file, { force: true });
      continue;
    }
    if (!announced) {
      options.onWait?.(holder);
      announced = true;
    }
    if (Date.now() > deadline) throw new Error(`stack ${stack} is still locked by ${holder.operation} (pid ${holder.pid}, since ${holder.since})`);
    await sleep(500);
  }
  try {
    return await work();
  } finally {
    rmSync(file, { force: true });
  }
}
