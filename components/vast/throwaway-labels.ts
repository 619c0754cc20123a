// How a GPU rented outside any stack (`dumont instance create --name test-failover-1`) is labelled
// on Vast: the name as given, plus the per-rent suffix every rent gets (labels.ts: rentLabel), so
// the seed guide's `dumont instance destroy --pattern 'test-failover-*'` finds it. Stack instances
// are `dumont-<stack>-<slot>.<hex>`; a throwaway name may not start with `dumont-`, so no stack's
// orphan sweep, journey cleanup or leak check (labels.ts: isStackLabel) can ever take it for one of
// its own, and it never takes a stack's instance for a throwaway.
import { dumontPrefix } from "../../contract/stack-names.ts";

/** Why `name` cannot label a throwaway instance, or undefined when it can. */
export function throwawayNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(name)) {
    return `'${name}' is not a name for an instance: use 1-63 letters, digits, '-' and '_', starting with a letter or digit`;
  }
  if (name.toLowerCase().startsWith(dumontPrefix)) {
    return `'${name}' starts with '${dumontPrefix}', which labels the instances of stacks (dumont-<stack>-<slot>.<hex>)`;
  }
  return undefined;
}

/** A default name, unique to the second: `gpu-20261122T131844Z`. */
export function defaultThrowawayName(now = new Date()): string {
  return `gpu-${now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}`;
}

