// Instances labelled for a stack (exactly: never another stack's) that its state does not hold:
// left by a controller killed while the engine was renting, or by a rent whose reply was lost.
// Swept at the end of every failover, after every `dumont up`, and when a watch starts.
import { isStackLabel } from "../components/vast/labels.ts";
import { slots } from "./settings.ts";
import type { StackContext } from "./stack-context.ts";

export async function destroyOrphans(ctx: StackContext, progress: (line: string) => void): Promise<number[]> {
  const vast = await ctx.vast();
  const known = new Set(slots.map((s) => ctx.outputs.slots[s]?.instanceId).filter((id): id is number => id !== undefined));
  const orphans = (await vast.listInstances()).filter((i) => isStackLabel(ctx.name, i.label) && !known.has(i.id));
  for (const orphan of orphans) {
    progress(`destroying orphan instance ${orphan.id} (${orphan.label}): the stack's state does not know it`);
    await vast.destroyInstance(orphan.id);
  }
  return orphans.map((o) => o.id);
}
