// How a stack's GPU instances are named on Vast: `dumont-<stack>-<slot>.<hex>` — the slot's base
// label (after the stack's prefix, stack-names.ts), plus a suffix unique to each rent (so a lost
// reply is reconciled by label). Sweeps and leak checks match it exactly, so stack `x` never
// touches the instances of stack `x-2`.
import { stackLabelPrefix } from "../../contract/stack-names.ts";

/** The base label of a slot's instance, before the per-rent suffix. */
export function slotLabel(stack: string, slot: string): string {
  return `${stackLabelPrefix(stack)}${slot}`;
}

/** The label of one rent: the slot's base label and a unique hex suffix. */
export function rentLabel(base: string, suffix: string): string {
  return `${base}.${suffix}`;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whether a Vast label is one of this stack's instances (either slot, any rent), exactly. */
export function isStackLabel(stack: string, label: unknown): boolean {
  return typeof label === "string" && new RegExp(`^${escape(stackLabelPrefix(stack))}[ab]\\.[0-9a-f]+$`).test(label);
}
