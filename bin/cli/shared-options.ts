// Options that many commands take, declared once: a command lists them in its options table (under
// another name where its own words differ, as the journey's --local-cloud) and may refine the
// meaning, never restate the rest.
import { slots } from "../../contract/settings-schema.ts";
import { defaultCloudName } from "../../local-cloud/endpoints.ts";

export const stackOption = {
  type: "string", value: "STACK", default: "local",
  meaning: "the stack to act on: its settings are stacks/Pulumi.<STACK>.yaml",
} as const;

export const jsonOption = {
  type: "boolean",
  meaning: "print the result as JSON (for programs) instead of text",
} as const;

/**
 * The local cloud by name. Its default is DUMONT_LOCAL_CLOUD, as a stack's dumont:localCloud is
 * (stacks/settings.ts), so one variable moves a whole session, README commands included.
 */
export const localCloudOption = {
  type: "string", value: "NAME", default: process.env.DUMONT_LOCAL_CLOUD || defaultCloudName, defaultShown: `$DUMONT_LOCAL_CLOUD, else ${defaultCloudName}`,
  meaning: "which local cloud (several may run side by side)",
} as const;

/** Which GPU of a stack (or a `dumont instance create` GPU) a command acts on. */
export const gpuSelectorOptions = {
  slot: {
    type: "string", value: slots.join("|"), choices: slots, absent: "the stack's active slot",
    meaning: "the GPU of this slot of the stack",
  },
  instance: {
    type: "string", value: "ID", absent: "the stack's active GPU",
    meaning: "the GPU with this instance id: one of the stack's, or one rented by `dumont instance create`",
  },
} as const;

/** --slot and --instance both name a GPU: at most one of them. */
export const gpuSelectorExclusive = ["slot", "instance"] as const;
