// A lease in the bucket that any number of controllers, on any machines, compete for: exactly one
// holds it at a time. It is taken and renewed with conditional writes only, so the store decides
// every race, and it never compares two machines' clocks:
//
// - A waiter takes the lease only after it has seen the same version of the lease object, unchanged,
//   for the lease's whole duration on its own clock (the holder stopped renewing), or when the
//   holder released it.
// - The holder renews every third of the duration. If a renewal has not succeeded by
//   (start of the last successful renewal + duration − margin), it stops acting (its signal aborts):
//   a waiter saw that renewal no earlier than it started, so it cannot take over before the holder
//   has stopped. A controller cut off from the bucket therefore stops by itself.
// - A holder on this very machine whose process is gone (a controller killed here) is taken over at
//   once; a reused PID only makes the waiter wait the full duration.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { DumontError } from "../../harness/errors.ts";
import type { ConditionalObject } from "./conditional-object.ts";

export interface LeaseBody {
  readonly format: "dumont-lease/1";
  /** This holding's id (a new one for every acquisition). */
  readonly holder: string;
  readonly operation: string;
  readonly machine: string;
  /** /etc/machine-id where there is one: host names repeat across laptops, machine ids do not. */
  readonly machineId: string;
  readonly pid: number;
  readonly since: string;
  readonly renewedAt: string;
  readonly renewals: number;
  readonly durationMs: number;
  readonly released: boolean;
}

export type AcquireAttempt =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly holder?: LeaseBody; readonly takeoverInMs: number };

export class LeaseLost extends DumontError {
  constructor(what: string, why: string) {
    super(`lost the lease of ${what} (${why}); stopped acting`, { hint: "another controller may act on the stack now" });
  }
}

export class LeaseBusy extends DumontError {
  constructor(what: string, holder: LeaseBody | undefined) {
    super(`${what} is held by ${holder ? describeHolder(holder) : "another controller"}`, { hint: "wait for it to finish, or stop it" });
  }
}

function readMachineId(): string {
  try {
    return readFileSync("/etc/machine-id", "utf8").trim() || hostname();
  } catch {
    return hostname();
  }
}

const thisMachine = readMachineId();

function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** A holder that can no longer act: it released the lease, or it was a process of this machine that is gone. */
export function holderIsGone(holder: LeaseBody): boolean {
  return holder.released || (holder.machineId === thisMachine && processIsGone(holder.pid));
}

export function describeHolder(holder: LeaseBody): string {
  return `${holder.operation} on ${holder.machine} (pid ${holder.pid}, since ${holder.since})`;
}

/** How long before its lease could be taken a holder that cannot renew stops acting. */
export function safetyMarginMs(durationMs: number): number {
  // A quarter of the lease, at least 2 s (a step in flight needs time to stop), at most half of it
  // (a holder renewing every third of the lease must stay valid between two renewals).
  return Math.round(Math.min(durationMs / 2, Math.max(2000, durationMs / 4)));
}

export interface LeaseOptions {
  /** What the lease guards, for messages ("stack prod's watch"). */
  readonly what: string;
  readonly operation: string;
  readonly durationMs: number;
  /** A monotonic clock in ms (tests give their own). */
  readonly clock?: () => number;
}

/** What a lease needs of its object: read, create if absent, replace if unchanged. */
export type LeaseObject = Pick<ConditionalObject<LeaseBody>, "read" | "create" | "replace">;

export class ControllerLease {
  private readonly object: LeaseObject;
  private readonly options: LeaseOptions;
  private readonly clock: () => number;
  private readonly id = randomUUID();
  private etag?: string;
  private since = "";
  private renewals = 0;
  /** The version a waiter saw and since when (own clock): unchanged for a whole duration means its holder is gone. */
  private seen?: { etag: string; at: number };
  private validUntil = 0;
  private readonly lostController = new AbortController();
  private readonly stopController = new AbortController();
  private renewing?: Promise<void>;

  constructor(object: LeaseObject, options: LeaseOptions) {
    this.object = object;
    this.options = options;
    this.clock = options.clock ?? (() => performance.now());
  }

  /** Aborts when the lease is lost: the holder must stop acting. */
  get signal(): AbortSignal {
    return this.lostController.signal;
  }

  get held(): boolean {
    return this.etag !== undefined && !this.signal.aborted;
  }

  private body(released = false): LeaseBody {
    return {
      format: "dumont-lease/1", holder: this.id, operation: this.options.operation, machine: hostname(), machineId: thisMachine, pid: process.pid,
      since: this.since, renewedAt: new Date().toISOString(), renewals: this.renewals, durationMs: this.options.durationMs, released,
    };
  }

  /** One attempt to take the lease; on success it is renewed until released or lost. */
  async tryAcquire(): Promise<AcquireAttempt> {
    if (this.etag !== undefined) throw new Error("this lease is already held");
    const started = this.clock();
    this.since = new Date().toISOString();
    const current = await this.object.read();
    let etag: string | undefined;
    if (!current) {
      etag = await this.object.create(this.body());
      if (etag === undefined) return { acquired: false, takeoverInMs: this.options.durationMs };
    } else {
      // Seen from when the read ended: the holder's renewal that wrote this version started before.
      const readAt = this.clock();
      if (this.seen?.etag !== current.etag) this.seen = { etag: current.etag, at: readAt };
      const takeoverInMs = holderIsGone(current.body) ? 0 : Math.max(0, current.body.durationMs - (readAt - this.seen.at));
      if (takeoverInMs > 0) return { acquired: false, holder: current.body, takeoverInMs };
      etag = await this.object.replace(this.body(), current.etag);
      if (etag === undefined) return { acquired: false, holder: current.body, takeoverInMs: this.options.durationMs };
    }
    this.hold(etag, started);
    return { acquired: true };
  }

  /** Waits until the lease is taken (or `timeoutMs` passes: LeaseBusy). */
  async acquire(options: { timeoutMs?: number; signal?: AbortSignal; onWait?: (holder: LeaseBody | undefined, takeoverInMs: number) => void } = {}): Promise<void> {
    const deadline = this.clock() + (options.timeoutMs ?? Number.POSITIVE_INFINITY);
    let announced = false;
    for (;;) {
      options.signal?.throwIfAborted();
      const attempt = await this.tryAcquire();
      if (attempt.acquired) return;
      if (!announced) {
        options.onWait?.(attempt.holder, attempt.takeoverInMs);
        announced = true;
      }
      if (this.clock() >= deadline) throw new LeaseBusy(this.options.what, attempt.holder);
      const pause = Math.min(Math.max(250, attempt.takeoverInMs), this.pollMs(), Math.max(0, deadline - this.clock()));
      await sleep(pause, undefined, { signal: options.signal });
    }
  }

  private pollMs(): number {
    return Math.max(250, Math.min(2000, Math.round(this.options.durationMs / 6)));
  }

  private hold(etag: string, renewalStartedAt: number): void {
    this.etag = etag;
    this.validUntil = renewalStartedAt + this.options.durationMs - safetyMarginMs(this.options.durationMs);
    this.renewing = this.renewLoop();
  }

  private lose(why: string): void {
    if (!this.lostController.signal.aborted) this.lostController.abort(new LeaseLost(this.options.what, why));
    this.stopController.abort();
  }

  private async renewLoop(): Promise<void> {
    const stop = this.stopController.signal;
    // The watchdog stops the holder on time even while a renewal request hangs.
    const watchdog = setInterval(() => {
      if (this.clock() >= this.validUntil) this.lose(`not renewed within ${Math.round((this.options.durationMs - safetyMarginMs(this.options.durationMs)) / 1000)} s`);
    }, 200);
    watchdog.unref();
    try {
      while (!stop.aborted) {
        await sleep(this.options.durationMs / 3, undefined, { signal: stop }).catch(() => undefined);
        while (!stop.aborted) {
          const started = this.clock();
          try {
            this.renewals += 1;
            const budget = Math.max(500, this.validUntil - started);
            const etag = await this.object.replace(this.body(), this.etag!, AbortSignal.any([stop, AbortSignal.timeout(budget)]));
            if (etag === undefined) return this.lose("another controller took it");
            this.etag = etag;
            this.validUntil = started + this.options.durationMs - safetyMarginMs(this.options.durationMs);
            break;
          } catch {
            // The store did not answer: try again soon; the watchdog ends this if it lasts.
            await sleep(500, undefined, { signal: stop }).catch(() => undefined);
          }
        }
      }
    } finally {
      clearInterval(watchdog);
    }
  }

  /** Stops renewing and marks the lease free, so a waiter takes it at once. */
  async release(): Promise<void> {
    const wasLost = this.signal.aborted;
    this.stopController.abort();
    await this.renewing;
    if (this.etag !== undefined && !wasLost) {
      await this.object.replace(this.body(true), this.etag, AbortSignal.timeout(10_000)).catch(() => undefined);
    }
    this.etag = undefined;
  }
}
