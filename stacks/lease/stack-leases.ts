// A stack's two leases, in its bucket next to its snapshots (a key scoped to the prefix reaches
// them): "operation" is held by whatever acts on the stack right now (a failover, a sync, an up),
// "watch" by the one `dumont watch` that watches it. Controllers on different machines (or with
// different DUMONT_STATE_DIRs) sharing the bucket therefore never act on the stack together.
//
// A store that ignores conditional writes cannot keep a lease: Dumont then says so once and runs
// in single-controller mode (the local lock only), as the README documents.
import type { StackContext } from "../stack-context.ts";
import { ConditionalObject, honoursConditionalWrites } from "./conditional-object.ts";
import { untilAborted } from "../../lib/abortable.ts";
import { ControllerLease, type LeaseBody } from "./controller-lease.ts";
import { recordsLiveInBucket, SharedRecords } from "./shared-records.ts";
import { slotRecordFile } from "../slot-record.ts";
import { statusFile, type StackStatus } from "../standby/status-file.ts";

export type LeaseRole = "operation" | "watch";

export function leaseKey(prefix: string, stack: string, role: LeaseRole): string {
  return `${prefix}.dumont/${stack}/${role}.lease.json`;
}

const warned = new Set<string>();

/**
 * The stack's lease for `role`, not yet taken; undefined when the stack has no bucket yet (before
 * its first `up`) or its store cannot keep a lease.
 */
export async function stackLease(ctx: StackContext, role: LeaseRole, operation: string, warn: (line: string) => void = (l) => console.error(l), signal?: AbortSignal): Promise<ControllerLease | undefined> {
  if (!ctx.outputs.bucket?.name) return undefined;
  const store = await ctx.snapshotStore();
  const { bucket, prefix } = store.settings;
  if (!(await untilAborted(honoursConditionalWrites(store.s3, bucket, `${prefix}.dumont/conditional-writes.probe`), signal))) {
    if (!warned.has(bucket)) {
      warned.add(bucket);
      warn(`warning: the object store of bucket ${bucket} ignores conditional writes, so controllers on other machines cannot be kept out; run one controller per stack (single-controller mode)`);
    }
    return undefined;
  }
  const key = leaseKey(prefix, ctx.name, role);
  const object = new ConditionalObject<LeaseBody>(store.s3, bucket, key);
  return new ControllerLease(object, {
    what: role === "watch" ? `the watch of stack ${ctx.name}` : `stack ${ctx.name}`, operation, key: `${bucket}/${key}`,
    durationMs: ctx.settings.health.controllerLeaseSeconds * 1000,
  });
}

/**
 * The stack's records as its bucket keeps them (shared-records.ts), for a holder of its lease;
 * undefined when its state lives in a folder on this machine (the records sit beside it) or it has
 * no bucket yet.
 */
export async function stackRecords(ctx: StackContext, leaseSignal?: AbortSignal): Promise<SharedRecords | undefined> {
  if (!ctx.outputs.bucket?.name || !recordsLiveInBucket()) return undefined;
  const store = await ctx.snapshotStore();
  const { bucket, prefix } = store.settings;
  return new SharedRecords(store.s3, bucket, prefix, ctx.name, { slots: slotRecordFile(ctx.name), status: statusFile(ctx.name) }, leaseSignal);
}

/**
 * The status as the stack's bucket keeps it, for a command that only reads it (undefined: the
 * records are beside a file backend, or the bucket has none yet). This machine's copy is left alone:
 * an operation running here may be about to write it.
 */
export async function sharedStatus(stack: string): Promise<StackStatus | undefined> {
  const { loadStackContext } = await import("../stack-context.ts");
  const records = await stackRecords(await loadStackContext(stack, { requireOutputs: false }));
  const text = await records?.peek("status");
  return text === undefined ? undefined : (JSON.parse(text) as StackStatus);
}
