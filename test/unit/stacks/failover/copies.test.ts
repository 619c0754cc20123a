// Which copy a failover restores: the freshest complete one, and the time its data was captured;
// with no copy at all, a refusal that says why and leaves the old GPU alone.
import { describe, expect, it } from "vitest";
import { DumontError } from "../../../../lib/errors.ts";
import { orderCandidates, restoreFreshest, snapshotCapturedAt } from "../../../../stacks/failover/copies.ts";
import type { RestoreSource } from "../../../../stacks/failover/plan.ts";
import type { StackContext } from "../../../../stacks/stack-context.ts";

describe("restore candidates", () => {
  it("a snapshot's capture time comes from its id", () => {
    expect(snapshotCapturedAt("20261122T131844614Z-test-snapshot-1")).toBe("2026-11-22T13:18:44.614Z");
    expect(() => snapshotCapturedAt("latest")).toThrow(/not a snapshot id/);
  });

  it("freshest first; a standby copy as fresh as a snapshot goes first", () => {
    const standby = { kind: "standby", generation: 4, capturedAt: "2026-11-30T09:00:00.000Z" } as const;
    const newer = { kind: "snapshot", id: "n", capturedAt: "2026-11-30T09:05:00.000Z" } as const;
    const older = { kind: "snapshot", id: "o", capturedAt: "2026-11-30T08:00:00.000Z" } as const;
    const tie = { kind: "snapshot", id: "t", capturedAt: "2026-11-30T09:00:00.000Z" } as const;
    expect(orderCandidates([older, standby, newer])).toEqual([newer, standby, older]);
    expect(orderCandidates([tie, standby])).toEqual([standby, tie]);
  });
});

describe("a failover with no copy to restore", () => {
  /** A stack with no standby whose bucket lists these snapshots (or fails to); any other use fails the test. */
  function stackWithout(list: () => Promise<Array<{ id: string }>>) {
    const touched: string[] = [];
    const ctx = new Proxy({ name: "prod", outputs: {}, snapshotStore: async () => ({ list }) }, {
      get(target, key) {
        if (key in target) return target[key as keyof typeof target];
        if (key === "then") return undefined;
        touched.push(String(key));
        throw new Error(`the stack context's ${String(key)} was used`);
      },
    }) as unknown as StackContext;
    return { ctx, touched };
  }

  it.each<[string, RestoreSource | undefined, RegExp]>([
    ["the freshest copy", undefined, /^stack prod has no complete copy to restore from$/],
    ["a snapshot (--from snapshot)", "snapshot", /^stack prod has no complete copy to restore from \(--from snapshot\)$/],
    ["the standby (--from standby), on a stack without one", "standby", /^stack prod has no complete copy to restore from \(--from standby\)$/],
  ])("asked for %s with no standby and no snapshot: refuses, saying why and what to do, and touches no GPU", async (_, source, reason) => {
    const { ctx, touched } = stackWithout(async () => []);
    const progress: string[] = [];
    const error = await restoreFreshest(ctx, "b", source, (line) => progress.push(line)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DumontError);
    expect((error as DumontError).message).toMatch(reason);
    expect((error as DumontError).hint).toMatch(/the old GPU is untouched; take a snapshot \(dumont snapshot create\) or sync the standby/);
    expect(progress.filter((l) => l.includes("restoring"))).toEqual([]);
    expect(touched).toEqual([]);
  });

  it("a bucket that does not answer is said, then the failover refuses for want of a copy", async () => {
    const { ctx, touched } = stackWithout(async () => {
      throw new Error("connect ECONNREFUSED 127.0.0.1:9000\nat somewhere");
    });
    const progress: string[] = [];
    await expect(restoreFreshest(ctx, "b", undefined, (line) => progress.push(line))).rejects.toThrow(/^stack prod has no complete copy to restore from$/);
    expect(progress).toEqual(["  the snapshots cannot be listed (connect ECONNREFUSED 127.0.0.1:9000)"]);
    expect(touched).toEqual([]);
  });
});
