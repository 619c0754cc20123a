// A failover's new GPU, rented outside the engine by the Vast provider's own code (offer ranking,
// taken offers skipped, lost replies reconciled by label, SSH and the host key it installed
// awaited, every instance destroyed if it never gets ready) with exactly what the program would
// ask for (environment-args.ts: gpuRentArgs). The engine's start-up (seconds) is not spent while the
// user waits: the retire's update, after the new GPU is active, takes the rented GPU into the state
// (components/vast/instance-operations.ts: adoptInstance), and until then the slot record holds it.
import { createInstance, type VastInstanceInputs } from "../../components/vast/instance-operations.ts";
import { slotLabel } from "../../components/vast/labels.ts";
import { rentedPart } from "../../components/vast/rented-instance.ts";
import { vastAccess } from "../../clouds/cloud-access.ts";
import { gpuRentArgs } from "../environment-args.ts";
import type { Slot } from "../settings.ts";
import type { AdoptedGpu } from "../slot-record.ts";
import type { StackContext } from "../stack-context.ts";

/** The inputs the program gives the slot's GPU (components/environment.ts), as plain values. */
export function slotRentInputs(ctx: StackContext, slot: Slot): VastInstanceInputs {
  return {
    ...gpuRentArgs(ctx.settings), label: slotLabel(ctx.name, slot),
    sshPublicKey: ctx.outputs.sshPublicKey, sshPrivateKey: ctx.outputs.sshPrivateKey,
  };
}

/** Rents the slot's GPU; `signal` stops the wait and destroys what was rented. */
export async function rentForSlot(ctx: StackContext, slot: Slot, progress: (line: string) => void, signal?: AbortSignal): Promise<AdoptedGpu> {
  const inputs = slotRentInputs(ctx, slot);
  const rented = await createInstance(await vastAccess(ctx.access), inputs, (line) => progress(`  ${line}`), signal);
  return { slot, instance: rentedPart(rented), diskGb: inputs.diskGb };
}
