// Dumont's one way to try something again, and to wait for something to become true: `retry` runs
// work until it succeeds, a failure is not worth another try, the tries or the time run out, or the
// signal aborts; `pollUntil` checks until a condition holds or time is up. Both are built on p-retry
// (the backoff, the time budget, an abort that also cuts a wait short), so the loops that call them
// only say what they retry, how often and how long, and what error they give up with.
//
// Unlike plain p-retry, which of the errors are retried is decided by `retryIf` alone: a TypeError
// (a dropped connection is one) or a thrown non-Error is retried like any other error, and the
// caller gets back exactly what was thrown. (zx's `retry`, also a dependency, has no signal, no
// deadline and no predicate, and logs every failure through `$.log`.)
import pRetry from "p-retry";

/** The waits between tries: `firstMs` before the second try, `factor` times longer before each next one, at most `maxMs`. */
export interface Backoff {
  readonly firstMs: number;
  /** Default 2; 1 waits the same each time. */
  readonly factor?: number;
  readonly maxMs?: number;
  /**
   * Draws each wait from 2/3 to 4/3 of its nominal length (the mean stays nominal), so that
   * clients that failed together do not all try again together.
   */
  readonly jitter?: boolean;
}

/** The wait before try `retry + 1` (retry 1 is the second try), without jitter. */
export function nominalDelayMs(backoff: Backoff, retry: number): number {
  return Math.min(backoff.firstMs * (backoff.factor ?? 2) ** (Math.max(1, retry) - 1), backoff.maxMs ?? Number.POSITIVE_INFINITY);
}

export interface RetryOptions {
  /** Tries in all, the first included; Infinity for no limit (then `timeoutMs` or `signal` should end it). */
  readonly attempts?: number;
  /**
   * No try starts later than this many milliseconds after the first: the last wait is cut short so
   * that one more try happens at the deadline, and a failure after it is final.
   */
  readonly timeoutMs?: number;
  readonly backoff: Backoff;
  /** Whether this failure is worth another try (default: every failure is). Not asked once the tries or the time are used up. */
  readonly retryIf?: (error: unknown, attempt: number) => boolean | Promise<boolean>;
  /** Told of each failure that will be tried again, before the wait. */
  readonly onRetry?: (failure: { readonly error: unknown; readonly attempt: number; readonly delayMs: number }) => void | Promise<void>;
  /** Aborting ends the wait or the retrying at once, rejecting with the signal's reason (a try that succeeded still returns). */
  readonly signal?: AbortSignal;
}

/** What p-retry sees of a failure: the thrown value, carried untouched past p-retry's own rules. */
class Failure extends Error {
  readonly thrown: unknown;
  constructor(thrown: unknown) {
    super("a try failed");
    this.thrown = thrown;
  }
}

const thrownBy = (error: unknown) => (error instanceof Failure ? error.thrown : error);

/**
 * Runs `work` (given the try's number, from 1) until it returns. A failure that `retryIf` refuses,
 * or the last one allowed by `attempts` or `timeoutMs`, is thrown as it was thrown.
 */
export async function retry<T>(work: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { attempts, timeoutMs, backoff, signal } = options;
  if (attempts === undefined && timeoutMs === undefined) throw new TypeError("retry needs `attempts` or `timeoutMs` (attempts: Infinity to retry until the signal aborts)");
  if (attempts !== undefined && !(attempts >= 1)) throw new RangeError(`retry needs at least one attempt, not ${attempts}`);
  // p-retry rejects when the signal aborted during a try that succeeded; what the work did is
  // returned all the same (an abort stops the retrying, it does not undo a success).
  let succeeded: { readonly value: T } | undefined;
  try {
    return await pRetry(async (attempt) => {
      try {
        succeeded = { value: await work(attempt) };
        return succeeded.value;
      } catch (error) {
        throw new Failure(error);
      }
    }, {
      retries: attempts === undefined ? Number.POSITIVE_INFINITY : attempts - 1,
      maxRetryTime: timeoutMs,
      factor: backoff.factor ?? 2,
      // p-retry's randomize multiplies by 1 to 2: starting from 2/3 of the wait keeps its mean.
      minTimeout: backoff.jitter ? (backoff.firstMs * 2) / 3 : backoff.firstMs,
      maxTimeout: backoff.maxMs,
      randomize: backoff.jitter ?? false,
      signal,
      shouldRetry: async ({ error, attemptNumber, retryDelay }) => {
        const again = options.retryIf ? await options.retryIf(thrownBy(error), attemptNumber) : true;
        if (again) await options.onRetry?.({ error: thrownBy(error), attempt: attemptNumber, delayMs: retryDelay });
        return again;
      },
    });
  } catch (error) {
    if (succeeded) return succeeded.value;
    throw thrownBy(error);
  }
}

/** What `pollUntil` throws when time is up, unless told otherwise. */
export class PollTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PollTimeout";
  }
}

export interface PollOptions {
  /** Time is up this many milliseconds after the first check; one last check is made then. */
  readonly timeoutMs: number;
  /** The wait between checks; or `backoff` for waits that grow. */
  readonly intervalMs?: number;
  readonly backoff?: Backoff;
  readonly signal?: AbortSignal;
  /** What is waited for, for the default error: "instance 7 to stop". */
  readonly describe?: string;
  /** The error to throw when time is up, instead of a PollTimeout (it may say what the last check saw). */
  readonly timeoutError?: () => Error;
}

/** The "not yet" of a check, as a failure to retry. */
const notYet = new Error("not yet");

/**
 * Calls `check` (given the check's number, from 1) until it returns something other than undefined
 * or false, and returns that. An error that `check` throws ends the wait at once: a check catches
 * what only means "not yet".
 */
export async function pollUntil<T>(
  check: (attempt: number) => Promise<T | undefined | false> | T | undefined | false,
  options: PollOptions,
): Promise<T> {
  const backoff = options.backoff ?? (options.intervalMs !== undefined ? { firstMs: options.intervalMs, factor: 1 } : undefined);
  if (backoff === undefined) throw new TypeError("pollUntil needs `intervalMs` or `backoff`");
  try {
    return await retry(async (attempt) => {
      const seen = await check(attempt);
      if (seen === undefined || seen === false) throw notYet;
      return seen;
    }, { attempts: Number.POSITIVE_INFINITY, timeoutMs: Math.max(0, options.timeoutMs), backoff, signal: options.signal, retryIf: (error) => error === notYet });
  } catch (error) {
    if (error !== notYet) throw error;
    throw options.timeoutError?.() ?? new PollTimeout(`timed out after ${options.timeoutMs / 1000} s${options.describe ? ` waiting for ${options.describe}` : ""}`);
  }
}
