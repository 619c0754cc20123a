// The stack's local lock: a second operation waits for the first, and stops waiting when its
// caller's signal aborts (a watch that lost its lease) instead of waiting out the deadline.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { StackContext } from "../../../../stacks/stack-context.ts";

const stateDir = mkdtempSync(path.join(tmpdir(), "dumont-lock-"));
vi.stubEnv("DUMONT_STATE_DIR", stateDir);
const { withStackLock, StackBusy } = await import("../../../../stacks/failover/lock.ts");
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

// A stack without a bucket: the local lock alone.
const context = { name: "lock-test", outputs: {} } as unknown as StackContext;

describe("withStackLock", () => {
  it("a waiting operation stops as soon as its signal aborts, and the holder keeps the lock", async () => {
    let finish!: () => void;
    const holding = withStackLock("lock-test", "first", () => new Promise<void>((r) => (finish = r)), { context });
    await vi.waitFor(() => expect(finish).toBeDefined());
    const stop = new AbortController();
    const waits: string[] = [];
    const second = withStackLock("lock-test", "second", async () => "ran", { context, waitSignal: stop.signal, onWait: (h) => waits.push(h.operation) });
    setTimeout(() => stop.abort(new Error("lease lost")), 300);
    const started = Date.now();
    await expect(second).rejects.toThrow("lease lost");
    expect(Date.now() - started).toBeLessThan(2000);
    expect(waits).toEqual(["first"]);
    // Nobody else may take it meanwhile.
    await expect(withStackLock("lock-test", "third", async () => "ran", { context, timeoutMs: 0 })).rejects.toBeInstanceOf(StackBusy);
    finish();
    await holding;
    await expect(withStackLock("lock-test", "fourth", async () => "ran", { context, timeoutMs: 0 })).resolves.toBe("ran");
  });
});
