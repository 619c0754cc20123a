// A standby that does not answer may only be stopped: GCP stops a Spot VM on preemption and it
// stays TERMINATED until started. Both standby kinds declare themselves running, so a refresh (which
// reads the real state) and an update of the standby's resources alone start it again; its static
// address and pinned host key stay the same. Used by a failover before it gives up on the standby.
import { UserError } from "../../lib/errors.ts";
import type { StackContext } from "../stack-context.ts";
import { pinnedRefresh, pinnedUp } from "../pinned-update.ts";
import { readSlotRecord } from "../slot-record.ts";

const standbyType = "dumont:index:Standby";

export async function reviveStandby(ctx: StackContext, progress: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const stack = await ctx.engineStack();
  const resources = (await stack.exportStack()).deployment?.resources ?? [];
  const target = resources.map((r: { urn: string }) => r.urn).filter((urn: string) => urn.includes(standbyType));
  if (target.length === 0) throw new UserError(`stack ${ctx.name} declares no standby`, "set dumont:autoStandbyEnabled to true and run `npx dumont up`, or fail over from a snapshot (--from snapshot)");
  progress("  the standby does not answer: refreshing it and starting it again if it was stopped");
  await pinnedRefresh(stack, { progress, target, keepStandby: true, signal });
  // A GPU a failover rented and only the slot record holds yet is taken into the state by the same
  // update: an update aimed at the standby alone would leave that slot's outputs unknown.
  const rentedPending = readSlotRecord(ctx.name)?.adopted !== undefined;
  await pinnedUp(stack, { progress, target: rentedPending ? undefined : target, keepStandby: true, signal });
}
