// `dumont up | preview | refresh | destroy --stack S`: the Pulumi operations on a Dumont stack
// through the Automation API, with the project's tools and the engine's output streamed.
import { SettingError } from "../../lib/errors.ts";
import { defineCommand } from "../cli/command.ts";
import { stackOption } from "../cli/shared-options.ts";

// Loaded when the command runs, not when `dumont --help` lists it: they bring Pulumi, ssh2, the AWS SDK.
const workspaceModule = () => import("../../stacks/workspace.ts");
const stackContextModule = () => import("../../stacks/stack-context.ts");
const orphansModule = () => import("../../stacks/orphans.ts");
const failoverLockModule = () => import("../../stacks/failover/lock.ts");
const cloudAccessModule = () => import("../../clouds/cloud-access.ts");
const slotRecordModule = () => import("../../stacks/slot-record.ts");

const print = (text: string) => process.stdout.write(text);

export const upCommand = defineCommand({
  path: ["up"],
  summary: "create or update a stack's environment (GPU, standby, bucket), like pulumi up",
  options: { stack: stackOption },
  async action({ values }) {
    // Under the stack's lock: never in the middle of a failover, whose rents the sweep must not see as orphans.
    await (await failoverLockModule()).withStackLock(values.stack, "up", async () => {
      await checkBeforeEngine(values.stack);
      const stack = await (await workspaceModule()).openProjectStack(values.stack);
      await stack.up({ onOutput: print });
      await (await orphansModule()).destroyOrphans(await (await stackContextModule()).loadStackContext(values.stack), (line) => console.log(line));
    }, { onWait: (holder) => console.error(`waiting: stack ${values.stack} is busy with ${holder.operation} (pid ${holder.pid})`) });
  },
});

/**
 * What an up would fail on, found before the engine runs and said in one line: a bad setting or a
 * missing credential (loading the context checks them), a cloud it cannot reach (the local cloud
 * not running), or a GPU it would drop. An up never removes the GPU the stack's outputs call
 * active: only a failover retires a slot. A settings file that says otherwise (edited by hand, or
 * a record lost with the state folder) stops here.
 */
async function checkBeforeEngine(stackName: string): Promise<void> {
  const ctx = await (await stackContextModule()).loadStackContext(stackName, { requireOutputs: false });
  await (await cloudAccessModule()).vastAccess(ctx.access);
  await (await cloudAccessModule()).objectStoreAccess(ctx.access);
  const active = ctx.outputs.activeSlot;
  const gpu = active ? ctx.outputs.slots[active] : undefined;
  if (gpu && !ctx.settings.provisionedSlots.includes(active)) {
    throw new SettingError("dumont:slots", `slot ${active} holds the active GPU (instance ${gpu.instanceId}) but the stack's slots are [${ctx.settings.provisionedSlots.join(", ")}]: this up would destroy it`,
      "only a failover retires the active slot (dumont failover); check the stack's slot record and settings file");
  }
}

export const previewCommand = defineCommand({
  path: ["preview"],
  summary: "show what `dumont up` would change",
  options: {
    stack: stackOption,
    "expect-no-changes": { type: "boolean", meaning: "fail when the preview shows any change (the environment drifted from its declaration)" },
  },
  async action({ values }) {
    const stack = await (await workspaceModule()).openProjectStack(values.stack);
    await stack.preview({ onOutput: print, expectNoChanges: values["expect-no-changes"] });
  },
});

export const refreshCommand = defineCommand({
  path: ["refresh"],
  summary: "read the real state of a stack's resources (e.g. an instance destroyed outside Dumont)",
  options: { stack: stackOption },
  async action({ values }) {
    const stack = await (await workspaceModule()).openProjectStack(values.stack);
    await stack.refresh({ onOutput: print });
  },
});

export const destroyCommand = defineCommand({
  path: ["destroy"],
  summary: "destroy a stack's environment; --remove also deletes the stack's state",
  options: {
    stack: stackOption,
    remove: { type: "boolean", meaning: "also delete the stack's state from the backend once its environment is destroyed (the settings file stays: it is yours)" },
  },
  async action({ values }) {
    const stack = await (await workspaceModule()).openProjectStack(values.stack);
    await stack.destroy({ onOutput: print });
    // What the state does not hold goes too: a GPU a failover rented that only its slot record
    // holds yet, and any other instance labelled for the stack (nothing of it keeps billing).
    (await slotRecordModule()).forgetAdoptedGpu(values.stack);
    try {
      const after = await (await stackContextModule()).loadStackContext(values.stack, { requireOutputs: false });
      await (await orphansModule()).destroyOrphans(after, (line) => console.log(line));
    } catch (error) {
      // A local cloud that is gone took its instances with it; a real account that does not answer is worth a line.
      console.error(`warning: could not look for instances labelled for stack ${values.stack} that its state does not hold: ${(error as Error).message.split("\n")[0]}`);
    }
    // The settings file is the user's (and committed): only the state goes.
    if (values.remove) await stack.workspace.removeStack(values.stack, { preserveConfig: true });
  },
});
