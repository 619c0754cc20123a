// The lease's rules against an object that behaves as a store honouring conditional writes: one
// holder at a time, takeover only after a whole unchanged duration (or at once from a released or
// dead holder), and a holder cut off from the store stops before anyone may take over.
// (The same lease against MinIO is in test/integration/controller-lease.test.ts.)
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ControllerLease, safetyMarginMs, type LeaseBody, type LeaseObject } from "../../../../stacks/lease/controller-lease.ts";
import type { Versioned } from "../../../../stacks/lease/conditional-object.ts";

class MemoryObject implements LeaseObject {
  current?: Versioned<LeaseBody>;
  private version = 0;
  async read(signal?: AbortSignal) {
    return this.current;
  }

  async create(body: LeaseBody, signal?: AbortSignal) {
    if (this.current) return undefined;
    this.current = { body, etag: `e${++this.version}` };
    return this.current.etag;
  }

  async replace(body: LeaseBody, etag: string, signal?: AbortSignal) {
    if (this.current?.etag !== etag) return undefined;
    this.current = { body, etag: `e${++this.version}` };
    return this.current.etag;
  }
}

/** Hangs while `cut()` says the controller is cut off from the bucket. */
async function cutOff(cut: () => boolean, signal?: AbortSignal): Promise<void> {
  while (cut()) {
    signal?.throwIfAborted();
    await sleep(20);
  }
}

const lease = (object: LeaseObject, operation: string, durationMs = 900) => new ControllerLease(object, { what: "stack t", operation, durationMs });

describe("controller lease", () => {
  it("lets one of two controllers hold it; the other gets it when released", async () => {
    const object = new MemoryObject();
    const first = lease(object, "first");
    const second = lease(object, "second");
    expect((await first.tryAcquire()).acquired).toBe(true);
    const attempt = await second.tryAcquire();
    expect(attempt.acquired).toBe(false);
    expect(!attempt.acquired && attempt.holder?.operation).toBe("first");
    await first.release();
    expect((await second.tryAcquire()).acquired).toBe(true);
    await second.release();
  });

  it("keeps a renewing holder's lease for longer than its duration", async () => {
    const object = new MemoryObject();
    const holder = lease(object, "holder");
    const waiter = lease(object, "waiter");
    await holder.acquire();
    const started = Date.now();
    while (Date.now() - started < 2500) {
      expect((await waiter.tryAcquire()).acquired).toBe(false);
      await sleep(100);
    }
    expect(holder.held).toBe(true);
    await holder.release();
  });

  it("is taken over once a holder stopped renewing for a whole duration, not before", async () => {
    const object = new MemoryObject();
    // A holder on another machine that died: its body stays, never renewed.
    object.current = { etag: "dead", body: { format: "dumont-lease/1", holder: "x", operation: "watch", machine: "elsewhere", processTable: "another-machine", processStart: "1", pid: 1, since: "", renewedAt: "", renewals: 0, durationMs: 900, released: false } };
    const waiter = lease(object, "waiter");
    const started = Date.now();
    await waiter.acquire();
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(900 + 1500);
    await waiter.release();
  });

  it("takes over at once from a holder of this machine whose process is gone", async () => {
    const object = new MemoryObject();
    const machineHolder = lease(object, "killed");
    await machineHolder.acquire();
    // Forge the same body with a PID that no longer exists, as a SIGKILLed controller leaves it.
    await machineHolder.release();
    object.current = { etag: "left", body: { ...object.current!.body, released: false, pid: 2 ** 22 + 7 } };
    const started = Date.now();
    const successor = lease(object, "successor");
    await successor.acquire();
    expect(Date.now() - started).toBeLessThan(500);
    await successor.release();
  });

  it("stops a holder cut off from the store before a waiter can take the lease", async () => {
    const object = new MemoryObject();
    const durationMs = 1200;
    let holderCut = false;
    // The holder's view of the store: hangs while it is cut off; the rival still reaches it.
    const holderView: LeaseObject = {
      read: async (s) => (await cutOff(() => holderCut, s), object.read(s)),
      create: async (b, s) => (await cutOff(() => holderCut, s), object.create(b, s)),
      replace: async (b, e, s) => (await cutOff(() => holderCut, s), object.replace(b, e, s)),
    };
    const holder = lease(holderView, "holder", durationMs);
    await holder.acquire();
    let stoppedAt = 0;
    holder.signal.addEventListener("abort", () => (stoppedAt = Date.now()));
    holderCut = true;
    const cutAt = Date.now();
    const rival = lease(object, "rival", durationMs);
    await rival.acquire();
    const takenAt = Date.now();
    expect(stoppedAt).toBeGreaterThan(0);
    expect(stoppedAt).toBeLessThan(takenAt);
    expect(stoppedAt - cutAt).toBeLessThanOrEqual(durationMs - safetyMarginMs(durationMs) + 400);
    expect(holder.signal.reason).toMatchObject({ message: expect.stringContaining("lost the lease of stack t") });
    await rival.release();
    holderCut = false;
    await holder.release();
    expect(object.current?.body.operation).toBe("rival");
  });

  it("says who holds it when a wait times out", async () => {
    const object = new MemoryObject();
    const holder = lease(object, "failover");
    await holder.acquire();
    await expect(lease(object, "sync").acquire({ timeoutMs: 0 })).rejects.toThrow(/stack t is held by failover on/);
    await holder.release();
  });
});

describe("controller lease, later attempts", () => {
  it("lets callers that try once per tick take over a dead holder once its version stood still a whole lease", async () => {
    const object = new MemoryObject();
    object.current = { etag: "dead", body: { format: "dumont-lease/1", holder: "x", operation: "sync", machine: "laptop", processTable: "another-machine", processStart: "1", pid: 1, since: "", renewedAt: "", renewals: 0, durationMs: 600, released: false } };
    const once = () => new ControllerLease(object, { what: "stack t", operation: "watch sync", durationMs: 600, key: "bucket/t/operation" }).tryAcquire();
    expect((await once()).acquired).toBe(false);
    await sleep(300);
    expect((await once()).acquired).toBe(false);
    await sleep(400);
    const taken = new ControllerLease(object, { what: "stack t", operation: "watch sync", durationMs: 600, key: "bucket/t/operation" });
    expect((await taken.tryAcquire()).acquired).toBe(true);
    await taken.release();
  });

  it("never takes a live holder for dead because its PID is unknown here (another process table)", async () => {
    const object = new MemoryObject();
    object.current = { etag: "alive", body: { format: "dumont-lease/1", holder: "x", operation: "watch", machine: "twin", processTable: "same-image-other-host", processStart: "5", pid: 2 ** 22 + 9, since: "", renewedAt: "", renewals: 0, durationMs: 60_000, released: false } };
    const attempt = await lease(object, "waiter").tryAcquire();
    expect(attempt.acquired).toBe(false);
  });

  it("keeps the lease when a renewal landed but its answer was lost", async () => {
    const object = new MemoryObject();
    let dropNextAnswer = false;
    const flaky: LeaseObject = {
      read: (s) => object.read(s), create: (b, s) => object.create(b, s),
      replace: async (b, e, s) => {
        const etag = await object.replace(b, e, s);
        if (dropNextAnswer && etag !== undefined) {
          dropNextAnswer = false;
          throw new Error("socket hang up");
        }
        return etag;
      },
    };
    const holder = lease(flaky, "holder", 3000);
    await holder.acquire();
    dropNextAnswer = true;
    await sleep(2500);
    expect(holder.held).toBe(true);
    holder.assertHeld();
    await holder.release();
  });
});
