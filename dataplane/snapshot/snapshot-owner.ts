// Which stack a snapshot belongs to. Two stacks may share a bucket and even a prefix; a failover
// that restored another stack's newest snapshot would hand one environment's data to another GPU
// host. A snapshot names its stack in its manifest (and the manifest's list metadata); a stack
// restores and builds on only its own, and on those from before snapshots named a stack.
import { DumontError } from "../../lib/errors.ts";

export class ForeignSnapshotError extends DumontError {
  constructor(id: string, owner: string, stack: string) {
    super(`snapshot ${id} belongs to stack '${owner}', not to stack '${stack}': a stack restores only its own snapshots`);
  }
}

/** Whether a snapshot recorded as made by `owner` (undefined: before snapshots named one) is `stack`'s. */
export function belongsToStack(owner: string | undefined, stack: string): boolean {
  return owner === undefined || owner === stack;
}

/** Throws ForeignSnapshotError when the manifest names a stack other than `stack`. */
export function checkSnapshotOwner(manifest: { readonly id: string; readonly stack?: string }, stack: string): void {
  if (!belongsToStack(manifest.stack, stack)) throw new ForeignSnapshotError(manifest.id, manifest.stack!, stack);
}
