// How Dumont names a stack and what belongs to it, written once: the sweeps and leak checks that
// find a stack's things by name (vast/labels.ts), the throwaway names that must never look like
// them (vast/throwaway-labels.ts) and the default names of its bucket, standby and firewall tag all
// build on these.

/** The names Pulumi accepts for a stack (and so `--stack`). */
export const stackNamePattern = /^[A-Za-z0-9_.-]+$/;

/** What every name of a stack's own things starts with; a name outside any stack may not. */
export const dumontPrefix = "dumont-";

/** `dumont-<stack>`: the stack's own name among other Dumont stacks' things (its SSH key's comment, its bucket by default). */
export function stackBaseName(stack: string): string {
  return `${dumontPrefix}${stack}`;
}

/** `dumont-<stack>-`: what every Vast label of the stack's instances starts with (then the slot). */
export function stackLabelPrefix(stack: string): string {
  return `${stackBaseName(stack)}-`;
}

/**
 * A name of lowercase letters, digits and dashes, as B2 bucket names, GCP network tags and local
 * standby hosts must be, made from one that may hold capitals, dots and underscores (a stack name).
 */
export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9-]/g, "-");
}

/** The stack's snapshot bucket when dumont:bucketName does not name one. */
export function defaultBucketName(stack: string): string {
  return slug(stackBaseName(stack));
}

/** The local cloud's standby host of the stack. */
export function localStandbyName(stack: string): string {
  return slug(stack);
}

/** The network tag that ties the GCP standby's SSH firewall rule to its VM. */
export function standbyNetworkTag(stack: string): string {
  return slug(`${dumontPrefix}standby-${stack}`);
}
