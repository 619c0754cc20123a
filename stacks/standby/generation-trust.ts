// The standby's record of its current copy, read with what the controller itself recorded. The
// record sits in the mirror user's home on the standby, and that user talks to GPU hosts: a hostile
// one that got hold of it could rewrite the record (a copy "from the future" that outranks every
// snapshot, or a huge entry count that makes every later sync refuse to shrink it). What this
// controller wrote down when it made that generation wins; a record it has no note of is believed
// only when it does not claim to come from the future.
import type { GenerationRecord } from "../../dataplane/standby/generations.ts";
import type { StackStatus } from "./status-file.ts";

/** How far ahead of this machine's clock a standby's record may be (clocks differ a little). */
const clockSkewMs = 5 * 60_000;

export function trustedGeneration(record: GenerationRecord, status: StackStatus, now = Date.now()): GenerationRecord | undefined {
  const ours = status.lastSync;
  if (ours?.generation === record.generation) {
    return { ...record, sourceInstanceId: ours.fromInstanceId, startedAt: ours.startedAt, finishedAt: ours.finishedAt, entries: ours.filesTotal, bytes: ours.bytesTotal };
  }
  if (!(Date.parse(record.startedAt) <= now + clockSkewMs) || !(Date.parse(record.finishedAt) <= now + clockSkewMs)) return undefined;
  return record;
}
