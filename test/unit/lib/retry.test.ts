// The one retry and poll helper: what it tries again and what not, when it gives up (tries, time,
// an abort), how long it waits between tries, and that the caller gets back exactly what was thrown.
// On fake timers, so every wait is exact and no test sleeps.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { nominalDelayMs, pollUntil, PollTimeout, retry } from "../../../lib/retry.ts";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date", "performance"], now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Runs `promise` to its end on fake time; its outcome, and when (ms after the start) each try started. */
async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  const outcome = promise.then((value) => ({ value }), (error: unknown) => ({ error }));
  await vi.runAllTimersAsync();
  return outcome;
}

/** Work that fails with `errors` in turn, then returns "done"; it notes when each try started. */
function scripted(errors: unknown[]) {
  const start = Date.now();
  const startedAt: number[] = [];
  const work = async () => {
    startedAt.push(Date.now() - start);
    if (startedAt.length <= errors.length) throw errors[startedAt.length - 1];
    return "done";
  };
  return { work, startedAt };
}

const fails = (n: number, make = (i: number) => new Error(`failure ${i + 1}`)) => Array.from({ length: n }, (_, i) => make(i));

describe("retry", () => {
  it("tries again until the work succeeds, and returns its result", async () => {
    const { work, startedAt } = scripted(fails(3));
    const { value } = await settle(retry(work, { attempts: 5, backoff: { firstMs: 100, factor: 1 } }));
    expect(value).toBe("done");
    expect(startedAt).toEqual([0, 100, 200, 300]);
  });

  it("passes each try its number", async () => {
    const seen: number[] = [];
    await settle(retry(async (attempt) => {
      seen.push(attempt);
      if (attempt < 3) throw new Error("not yet");
    }, { attempts: 5, backoff: { firstMs: 1 } }));
    expect(seen).toEqual([1, 2, 3]);
  });

  it("stops at a failure retryIf refuses, at once, and throws it as it was", async () => {
    const permanent = new RangeError("bad request");
    const { work, startedAt } = scripted([new Error("blip"), permanent, new Error("never reached")]);
    const asked: Array<[string, number]> = [];
    const { error } = await settle(retry(work, {
      attempts: 10, backoff: { firstMs: 50 },
      retryIf: (e, attempt) => {
        asked.push([(e as Error).message, attempt]);
        return !(e instanceof RangeError);
      },
    }));
    expect(error).toBe(permanent);
    expect(startedAt).toEqual([0, 50]);
    expect(asked).toEqual([["blip", 1], ["bad request", 2]]);
  });

  it("gives up after its attempts with the last failure, without a wait after it", async () => {
    const errors = fails(5);
    const { work, startedAt } = scripted(errors);
    const start = Date.now();
    const { error } = await settle(retry(work, { attempts: 3, backoff: { firstMs: 10 } }));
    expect(error).toBe(errors[2]);
    expect(startedAt).toEqual([0, 10, 30]);
    expect(Date.now() - start).toBe(30);
  });

  it("one attempt is one try, and retryIf is not asked", async () => {
    const retryIf = vi.fn(() => true);
    const { work, startedAt } = scripted(fails(2));
    const { error } = await settle(retry(work, { attempts: 1, backoff: { firstMs: 10 }, retryIf }));
    expect((error as Error).message).toBe("failure 1");
    expect(startedAt).toEqual([0]);
    expect(retryIf).not.toHaveBeenCalled();
  });

  it("starts no try after its time is up: the last wait is cut short to try once more at the deadline", async () => {
    const errors = fails(100);
    const { work, startedAt } = scripted(errors);
    const { error } = await settle(retry(work, { timeoutMs: 250, backoff: { firstMs: 100, factor: 1 } }));
    expect(startedAt).toEqual([0, 100, 200, 250]);
    expect(error).toBe(errors[3]);
  });

  it("waits longer after each failure: firstMs, then factor times more, up to maxMs", async () => {
    const { work, startedAt } = scripted(fails(6));
    await settle(retry(work, { attempts: 10, backoff: { firstMs: 100, factor: 2, maxMs: 1000 } }));
    const gaps = startedAt.slice(1).map((at, i) => at - startedAt[i]!);
    expect(gaps).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([1, 2, 3, 4, 5].map((n) => nominalDelayMs({ firstMs: 100, factor: 2, maxMs: 1000 }, n))).toEqual([100, 200, 400, 800, 1000]);
  });

  it("with jitter, each wait is from 2/3 to 4/3 of its nominal length", async () => {
    const random = vi.spyOn(Math, "random");
    try {
      for (const [draw, factorOfNominal] of [[0, 2 / 3], [0.999999, 4 / 3]] as const) {
        random.mockReturnValue(draw);
        const { work, startedAt } = scripted(fails(3));
        await settle(retry(work, { attempts: 10, backoff: { firstMs: 300, jitter: true } }));
        const gaps = startedAt.slice(1).map((at, i) => at - startedAt[i]!);
        expect(gaps).toEqual([300, 600, 1200].map((nominal) => Math.round(nominal * factorOfNominal)));
      }
    } finally {
      random.mockRestore();
    }
  });

  it("tells onRetry of each failure that will be tried again, with the wait", async () => {
    const { work } = scripted(fails(2));
    const told: Array<[string, number, number]> = [];
    await settle(retry(work, { attempts: 5, backoff: { firstMs: 10 }, onRetry: ({ error, attempt, delayMs }) => void told.push([(error as Error).message, attempt, delayMs]) }));
    expect(told).toEqual([["failure 1", 1, 10], ["failure 2", 2, 20]]);
  });

  it("retries TypeErrors and thrown non-Errors like any failure, and hands them back untouched", async () => {
    const dropped = new TypeError("fetch failed");
    const { work, startedAt } = scripted([dropped, "a string", dropped]);
    expect((await settle(retry(work, { attempts: 5, backoff: { firstMs: 1 } }))).value).toBe("done");
    expect(startedAt).toHaveLength(4);
    const last = await settle(retry(scripted(["a string", "again"]).work, { attempts: 2, backoff: { firstMs: 1 } }));
    expect(last.error).toBe("again");
  });

  it("an abort during a wait ends it at once, with the signal's reason", async () => {
    const controller = new AbortController();
    const { work, startedAt } = scripted(fails(10));
    const outcome = retry(work, { attempts: 10, backoff: { firstMs: 60_000 }, signal: controller.signal }).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(1000);
    const reason = new Error("stopped by the user");
    controller.abort(reason);
    expect(await outcome).toBe(reason);
    expect(startedAt).toEqual([0]);
    expect(Date.now() - 1_000_000).toBe(1000);
  });

  it("an aborted signal starts no try", async () => {
    const work = vi.fn(async () => "done");
    const { error } = await settle(retry(work, { attempts: 3, backoff: { firstMs: 1 }, signal: AbortSignal.abort(new Error("already stopped")) }));
    expect((error as Error).message).toBe("already stopped");
    expect(work).not.toHaveBeenCalled();
  });

  it("a try that succeeded returns, even when the signal aborted during it: an abort stops retrying, it does not undo", async () => {
    const controller = new AbortController();
    const { value } = await settle(retry(async () => {
      controller.abort(new Error("stopped meanwhile"));
      return "done anyway";
    }, { attempts: 3, backoff: { firstMs: 1 }, signal: controller.signal }));
    expect(value).toBe("done anyway");
  });

  it("refuses to retry without a bound, or with no attempt at all", async () => {
    await expect(retry(async () => "x", { backoff: { firstMs: 1 } })).rejects.toThrow(/needs `attempts` or `timeoutMs`/);
    await expect(retry(async () => "x", { attempts: 0, backoff: { firstMs: 1 } })).rejects.toThrow(RangeError);
  });
});

describe("pollUntil", () => {
  it("checks until the check returns something, and returns that", async () => {
    const answers = [undefined, false, undefined, { id: 7 }];
    const start = Date.now();
    const checkedAt: number[] = [];
    const { value } = await settle(pollUntil(() => {
      checkedAt.push(Date.now() - start);
      return answers[checkedAt.length - 1];
    }, { intervalMs: 1000, timeoutMs: 60_000 }));
    expect(value).toEqual({ id: 7 });
    expect(checkedAt).toEqual([0, 1000, 2000, 3000]);
  });

  it("when time is up (one last check at the deadline), throws a PollTimeout that says what it waited for", async () => {
    const start = Date.now();
    const checkedAt: number[] = [];
    const { error } = await settle(pollUntil(async () => void checkedAt.push(Date.now() - start), { intervalMs: 1000, timeoutMs: 2500, describe: "instance 7 to stop" }));
    expect(error).toBeInstanceOf(PollTimeout);
    expect((error as Error).message).toBe("timed out after 2.5 s waiting for instance 7 to stop");
    expect(checkedAt).toEqual([0, 1000, 2000, 2500]);
  });

  it("throws the caller's own error when time is up, made after the last check", async () => {
    let last = "";
    const { error } = await settle(pollUntil(async (attempt) => {
      last = `check ${attempt}`;
      return undefined;
    }, { intervalMs: 10, timeoutMs: 30, timeoutError: () => new RangeError(`gave up; ${last}`) }));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe("gave up; check 4");
  });

  it("a timeout of 0 checks once", async () => {
    const check = vi.fn(() => undefined);
    expect((await settle(pollUntil(check, { intervalMs: 10, timeoutMs: 0 }))).error).toBeInstanceOf(PollTimeout);
    expect(check).toHaveBeenCalledTimes(1);
  });

  it("an error from the check ends the wait at once: it is not a 'not yet'", async () => {
    const broken = new Error("it went exited");
    const check = vi.fn().mockResolvedValueOnce(undefined).mockRejectedValueOnce(broken).mockResolvedValue("never");
    expect((await settle(pollUntil(check, { intervalMs: 10, timeoutMs: 1000 }))).error).toBe(broken);
    expect(check).toHaveBeenCalledTimes(2);
  });

  it("waits that grow: a backoff instead of a fixed interval", async () => {
    const start = Date.now();
    const checkedAt: number[] = [];
    await settle(pollUntil(async () => void checkedAt.push(Date.now() - start), { backoff: { firstMs: 1000, factor: 2, maxMs: 15_000 }, timeoutMs: 30_000 }));
    expect(checkedAt).toEqual([0, 1000, 3000, 7000, 15_000, 30_000]);
  });

  it("an abort ends the wait at once, with the signal's reason", async () => {
    const controller = new AbortController();
    const outcome = pollUntil(() => undefined, { intervalMs: 5000, timeoutMs: 60_000, signal: controller.signal }).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(7000);
    controller.abort(new Error("stopped"));
    expect(((await outcome) as Error).message).toBe("stopped");
  });

  it("needs an interval or a backoff", async () => {
    await expect(pollUntil(() => true, { timeoutMs: 10 })).rejects.toThrow(/needs `intervalMs` or `backoff`/);
  });
});
