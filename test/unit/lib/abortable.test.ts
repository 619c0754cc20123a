import { describe, expect, it } from "vitest";
import { untilAborted } from "../../../lib/abortable.ts";

describe("untilAborted", () => {
  it("gives the work's result or error when it ends first", async () => {
    await expect(untilAborted(Promise.resolve(7), new AbortController().signal)).resolves.toBe(7);
    await expect(untilAborted(Promise.reject(new Error("no")), new AbortController().signal)).rejects.toThrow("no");
    await expect(untilAborted(Promise.resolve(1))).resolves.toBe(1);
  });

  it("stops waiting for work that never ends once the signal aborts", async () => {
    const stop = new AbortController();
    const waiting = untilAborted(new Promise<never>(() => {}), stop.signal);
    setTimeout(() => stop.abort(new Error("lease lost")), 10);
    await expect(waiting).rejects.toThrow("lease lost");
  });

  it("refuses at once when already aborted", async () => {
    const stop = new AbortController();
    stop.abort(new Error("gone"));
    await expect(untilAborted(new Promise<never>(() => {}), stop.signal)).rejects.toThrow("gone");
  });
});
