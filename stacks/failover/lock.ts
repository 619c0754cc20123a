// One operation at a time per stack (failover, sync, up), on this machine and across machines.
// On this machine: a lock in the state folder taken with proper-lockfile, whose holder refreshes it
// every few seconds; a lock whose holder stopped refreshing it (a controller killed mid-failover,
// whatever its PID became since) is stale after 20 s and taken over. Across machines (or state
// folders): the stack's "operation" lease in its bucket (stacks/lease/), taken after the local lock.
// A second operation waits for the first instead of breaking in. The holder's name is kept beside
// the lock for the message a waiting operation prints.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import lockfile from "proper-lockfile";
import { DumontError, UserError } from "../../lib/errors.ts";
import { stateDir } from "../../lib/tools/paths.ts";
import { describeHolder } from "../lease/controller-lease.ts";
import { stackLease, stackRecords } from "../lease/stack-leases.ts";
import { heldRecords, holdRecords } from "../lease/shared-records.ts";
import { anySignal, untilAborted } from "../../lib/abortable.ts";
import { loadStackContext, type StackContext } from "../stack-context.ts";

/** A lock not refreshed for this long belongs to a dead holder. */
const staleMs = 20_000;

export function lockFile(stack: string): string {
  return path.join(stateDir, "locks", `${stack}.lock`);
}

interface Holder {
  readonly pid: number;
  readonly operation: string;
  readonly since: string;
}

function holderOf(file: string): Holder {
  try {
    return JSON.parse(readFileSync(`${file}.holder`, "utf8")) as Holder;
  } catch {
    return { pid: 0, operation: "another operation", since: "" };
  }
}

/** Another operation holds the stack: the user waits for it or stops it. */
export class StackBusy extends UserError {
  constructor(stack: string, holder: Holder) {
    super(`stack ${stack} is still locked by ${holder.operation} (pid ${holder.pid}, since ${holder.since})`, "wait for it to finish, or stop it");
  }
}

/**
 * Runs `work` holding the stack's lock and, once the stack has a bucket, its operation lease. Its
 * signal aborts if either is lost (the holder could not refresh it: the machine slept past the
 * stale time, or lost the bucket): another controller may hold it by then, so the work must stop.
 * `context` saves loading the stack again to find its bucket; `work` is handed the context to use,
 * loaded again if the lease brought records another controller wrote (stacks/lease/shared-records.ts).
 */
export async function withStackLock<T>(
  stack: string, operation: string, work: (signal: AbortSignal, assertHeld: () => void, context: StackContext) => Promise<T>,
  options: {
    timeoutMs?: number; onWait?: (holder: Holder) => void; context?: StackContext; signal?: AbortSignal;
    /** Ends only the wait for the lock (a watch that lost its lease); once held, the work is not stopped by it. */
    waitSignal?: AbortSignal;
  } = {},
): Promise<T> {
  const file = lockFile(stack);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, "", { flag: "a" });
  const deadline = Date.now() + (options.timeoutMs ?? 3 * 3600_000);
  let announced = false;
  let release: () => Promise<void>;
  const compromised = new AbortController();
  // The wait's own signal ends it too, not only the deadline.
  const stopWaiting = anySignal(options.signal, options.waitSignal);
  for (;;) {
    try {
      release = await lockfile.lock(file, {
        stale: staleMs, update: staleMs / 4, realpath: false,
        onCompromised: (error: Error) => compromised.abort(new DumontError(`the lock of stack ${stack} was lost (${error.message}); stopping ${operation}`, { hint: "another controller may act on the stack now; re-run once it is done" })),
      });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
      const holder = holderOf(file);
      if (!announced) {
        options.onWait?.(holder);
        announced = true;
      }
      if (Date.now() >= deadline) throw new StackBusy(stack, holder);
      await sleep(500, undefined, { signal: stopWaiting }).catch(() => stopWaiting?.throwIfAborted());
    }
  }
  try {
    // Inside the try: a holder note that cannot be written must not leave the lock held for good.
    writeFileSync(`${file}.holder`, JSON.stringify({ pid: process.pid, operation, since: new Date().toISOString() }));
    const context = options.context ?? await loadStackContext(stack, { requireOutputs: false });
    // The caller's signal (a watch that lost its own lease) stops the wait for a store that no
    // longer answers: nothing here may keep it from stopping.
    const outer = anySignal(compromised.signal, options.signal)!;
    const lease = await stackLease(context, "operation", operation, undefined, outer);
    if (!lease) return await work(outer, () => outer.throwIfAborted(), context);
    const waiting = anySignal(outer, options.waitSignal)!;
    const acquiring = lease.acquire({
      timeoutMs: Math.max(0, deadline - Date.now()),
      signal: waiting,
      onWait: (holder) => {
        if (!announced) options.onWait?.({ pid: holder?.pid ?? 0, operation: holder ? describeHolder(holder) : "another controller", since: holder?.since ?? "" });
        announced = true;
      },
    });
    try {
      await untilAborted(acquiring, waiting);
    } catch (error) {
      // A request that was still out when the caller stopped may win the lease afterwards: it is
      // given back at once rather than renewed with nobody using it.
      acquiring.then(() => lease.release(), () => undefined);
      throw error;
    }
    let letGo = () => {};
    try {
      const signal = AbortSignal.any([outer, lease.signal]);
      // A watch that holds the stack's watch lease keeps its records already: one copy per stack.
      const held = heldRecords(stack);
      const records = held ?? await stackRecords(context, signal);
      // Read again when the lease brought another controller's records, or when the state is shared
      // (another machine's update may have ended between the first reading and the lease). A state
      // in a local folder changes only under the local lock, held since before the first reading.
      const pulled = records && (await untilAborted(records.pull(), signal));
      const current = pulled || !process.env.PULUMI_BACKEND_URL?.startsWith("file://") ? await loadStackContext(stack, { requireOutputs: false }) : context;
      if (records && !held) letGo = holdRecords(stack, records);
      try {
        // Checked right before an irreversible step: by the clocks themselves, not a timer that may be late.
        return await work(signal, () => {
          signal.throwIfAborted();
          lease.assertHeld();
        }, current);
      } finally {
        // What the work wrote reaches the bucket before another controller may take the stack (a
        // lost lease aborts the writes: there is nothing to wait for then).
        await untilAborted(records?.flush() ?? Promise.resolve(), signal).catch((error: Error) => console.error(`warning: ${error.message}`));
      }
    } finally {
      letGo();
      await lease.release();
    }
  } finally {
    rmSync(`${file}.holder`, { force: true });
    await release().catch(() => undefined);
  }
}
