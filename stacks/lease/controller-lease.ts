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
import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { DumontError, UserError } from "../../lib/errors.ts";
import type { ConditionalObject } from "./conditional-object.ts";

export interface LeaseBody {
  readonly format: "dumont-lease/1";
  /** This holding's id (a new one for every acquisition). */
  readonly holder: string;
  readonly operation: string;
  readonly machine: string;
  /** Machine id, boot id and PID namespace: where `pid` names this holder (see readProcessTable). */
  readonly processTable: string;
  readonly pid: number;
  /** The holder process's start time, so a reused PID is not taken for it. */
  readonly processStart: string;
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

/** Another controller holds the lease: the user waits for it or stops it. */
export class LeaseBusy extends UserError {
  constructor(what: string, holder: LeaseBody | undefined) {
    super(`${what} is held by ${holder ? describeHolder(holder) : "another controller"}`, "wait for it to finish, or stop it");
  }
}

function readFirstLine(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n")[0]!.trim();
  } catch {
    return "";
  }
}

/** When a process started, in clock ticks since boot (/proc/<pid>/stat field 22): a reused PID has another. */
function processStart(pid: number): string {
  const stat = readFirstLine(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its ")".
  return stat ? (stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "") : "";
}

function pidNamespace(): string {
  try {
    return readlinkSync("/proc/self/ns/pid");
  } catch {
    return "";
  }
}

/**
 * Which process table a holder's PID means something in: this machine's id, this boot, this PID
 * namespace. Without all three (not Linux) it is empty and no holder is ever taken for dead early.
 * Host names repeat across laptops and machine ids across containers of one image: they alone
 * would let a live holder on another machine look dead.
 */
function readProcessTable(): string {
  const parts = [readFirstLine("/etc/machine-id"), readFirstLine("/proc/sys/kernel/random/boot_id"), pidNamespace()];
  return parts.every(Boolean) ? parts.join("/") : "";
}

const thisProcessTable = readProcessTable();

/** A holder that can no longer act: it released the lease, or its process (same table, same start) is gone. */
export function holderIsGone(holder: LeaseBody): boolean {
  if (holder.released) return true;
  if (!thisProcessTable || holder.processTable !== thisProcessTable || !holder.processStart) return false;
  return processStart(holder.pid) !== holder.processStart;
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
  /**
   * The lease object's identity (bucket/key): what a waiter saw of it is remembered per key across
   * lease objects, so callers that only ever try once (a sync every tick) still see a dead holder's
   * version age, and take over once it has stood still for a whole lease.
   */
  readonly key?: string;
  readonly operation: string;
  readonly durationMs: number;
  /** A monotonic clock in ms (tests give their own). */
  readonly clock?: () => number;
}

/** What a lease needs of its object: read, create if absent, replace if unchanged. */
export type LeaseObject = Pick<ConditionalObject<LeaseBody>, "read" | "create" | "replace">;

interface Observation {
  readonly etag: string;
  readonly at: number;
}

/** What waiters in this process saw of each lease object (see LeaseOptions.key). */
const observations = new Map<string, Observation>();

export class ControllerLease {
  private readonly object: LeaseObject;
  private readonly observationKey: string;
  private readonly options: LeaseOptions;
  private readonly clock: () => number;
  private readonly id = randomUUID();
  private etag?: string;
  private since = "";
  private renewals = 0;
  private validUntil = 0;
  /** validUntil on the wall clock: the monotonic clock stops while a laptop sleeps, the wall clock does not. */
  private validUntilWall = 0;
  private readonly lostController = new AbortController();
  private readonly stopController = new AbortController();
  private renewing?: Promise<void>;

  constructor(object: LeaseObject, options: LeaseOptions) {
    this.object = object;
    this.options = options;
    this.clock = options.clock ?? (() => performance.now());
    this.observationKey = options.key ?? `lease-${this.id}`;
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
      format: "dumont-lease/1", holder: this.id, operation: this.options.operation, machine: hostname(), processTable: thisProcessTable, pid: process.pid, processStart: processStart(process.pid),
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
      let seen = this.seen();
      if (seen?.etag !== current.etag) seen = this.see({ etag: current.etag, at: readAt });
      const takeoverInMs = holderIsGone(current.body) ? 0 : Math.max(0, current.body.durationMs - (readAt - seen!.at));
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

  /** The version of the lease object a waiter saw and since when (own clock): unchanged for a whole lease means its holder is gone. */
  private seen(): Observation | undefined {
    return observations.get(this.observationKey);
  }

  private see(observation: Observation): Observation {
    observations.set(this.observationKey, observation);
    return observation;
  }

  /**
   * Throws LeaseLost unless the lease is held and valid now by both clocks: called right before an
   * action that must not happen after another controller may hold the lease (a timer may fire late).
   */
  assertHeld(): void {
    if (this.signal.aborted) throw this.signal.reason;
    if (this.etag === undefined) throw new LeaseLost(this.options.what, "not held");
    if (this.expired()) {
      this.lose("its renewal is overdue");
      throw this.signal.reason;
    }
  }

  private expired(): boolean {
    return this.clock() >= this.validUntil || Date.now() >= this.validUntilWall;
  }

  private pollMs(): number {
    return Math.max(250, Math.min(2000, Math.round(this.options.durationMs / 6)));
  }

  private hold(etag: string, renewalStartedAt: number): void {
    this.etag = etag;
    this.setValidity(renewalStartedAt);
    this.renewing = this.renewLoop();
  }

  /** Valid until a safety margin before a waiter could take over, counted from when the write that renewed it started. */
  private setValidity(writeStartedAt: number): void {
    const left = writeStartedAt + this.options.durationMs - safetyMarginMs(this.options.durationMs) - this.clock();
    this.validUntil = this.clock() + left;
    this.validUntilWall = Date.now() + left;
  }

  private lose(why: string): void {
    if (!this.lostController.signal.aborted) this.lostController.abort(new LeaseLost(this.options.what, why));
    this.stopController.abort();
  }

  private async renewLoop(): Promise<void> {
    const stop = this.stopController.signal;
    // The watchdog stops the holder on time even while a renewal request hangs.
    const watchdog = setInterval(() => {
      if (this.expired()) this.lose(`not renewed within ${Math.round((this.options.durationMs - safetyMarginMs(this.options.durationMs)) / 1000)} s`);
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
            if (etag === undefined) {
              // A renewal whose answer was lost may have landed: the object is then still ours.
              const now = await this.object.read(AbortSignal.timeout(Math.max(500, this.validUntil - this.clock()))).catch(() => undefined);
              if (now?.body.holder !== this.id) return this.lose("another controller took it");
              this.etag = now.etag;
              this.setValidity(started);
              break;
            }
            this.etag = etag;
            this.setValidity(started);
            break;
          } catch {
            // The store did not answer: try again soon (well within what validity is left); the
            // watchdog ends this if it lasts.
            await sleep(Math.min(500, Math.max(50, (this.validUntil - this.clock()) / 4)), undefined, { signal: stop }).catch(() => undefined);
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
