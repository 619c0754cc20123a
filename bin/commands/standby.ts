// `dumont standby sync | status | associations | configure`.
import { declarations, type SettingKey } from "../../contract/settings-schema.ts";
import { UsageError } from "../../lib/errors.ts";
import { defineCommand, type OptionTable } from "../cli/command.ts";
import { jsonOption, stackOption } from "../cli/shared-options.ts";

// Loaded when the command runs, not when `dumont --help` lists it: they bring Pulumi, ssh2, the AWS SDK.
const stackContextModule = () => import("../../stacks/stack-context.ts");
const statusFileModule = () => import("../../stacks/standby/status-file.ts");
const syncModule = () => import("../../stacks/standby/sync.ts");
const failoverLockModule = () => import("../../stacks/failover/lock.ts");
const stackLeasesModule = () => import("../../stacks/lease/stack-leases.ts");
const workspaceModule = () => import("../../stacks/workspace.ts");

export const standbySync = defineCommand({
  path: ["standby", "sync"],
  summary: "copy the active GPU's /workspace to the standby now (rsync, one hop, deletions included); the copy becomes current only once complete",
  options: {
    stack: stackOption,
    "allow-shrink": { type: "boolean", meaning: "accept a copy with less than half the entries of the last one (refused otherwise: a workspace that lost most of its files is more likely broken than cleaned)" },
    json: jsonOption,
  },
  async action({ values }) {
    const ctx = await (await stackContextModule()).loadStackContext(values.stack);
    const result = await (await failoverLockModule()).withStackLock(values.stack, "standby sync", async (lockLost, _held, current) => (await syncModule()).syncStandby(current, { allowShrink: values["allow-shrink"], signal: lockLost }), { context: ctx });
    console.log(values.json ? JSON.stringify(result, null, 2)
      : `synced ${result.filesTotal} entries (${result.filesTransferred} files sent, ${(result.bytesSent / 1e6).toFixed(1)} MB) in ${result.seconds.toFixed(1)} s: standby generation ${result.generation.generation}${result.keptPrevious ? `; the previous copy (another GPU's, generation ${result.keptPrevious}) is kept on the standby as ~/dumont-mirror/kept-gen-${result.keptPrevious}` : ""}`);
  },
});

export const standbyStatus = defineCommand({
  path: ["standby", "status"],
  summary: "last sync (time, bytes, duration), current RPO, sync errors and the watch loop's state",
  options: { stack: stackOption, json: jsonOption },
  async action({ values }) {
    const status = (await (await stackLeasesModule()).sharedStatus(values.stack)) ?? (await statusFileModule()).readStatus(values.stack);
    const rpo = (await statusFileModule()).rpoSeconds(status);
    if (values.json) {
      console.log(JSON.stringify({ ...status, rpoSeconds: rpo }, null, 2));
      return;
    }
    const s = status.lastSync;
    console.log(s
      ? `last sync   ${s.finishedAt}: ${s.filesTransferred} files, ${(s.bytesSent / 1e6).toFixed(1)} MB in ${s.seconds.toFixed(1)} s (instance ${s.fromInstanceId} → ${s.toStandby})\nRPO         ${rpo?.toFixed(0)} s (data newer than the last sync's start would be lost)`
      : "last sync   never");
    if (status.lastSyncError) console.log(`sync error  ${status.lastSyncError.at}: ${status.lastSyncError.message.split("\n")[0]} (${status.consecutiveSyncFailures} in a row)`);
    if (status.watch) console.log(`watch       ${status.watch.state} (pid ${status.watch.pid}, updated ${status.watch.updatedAt}, ${status.watch.consecutiveFailures} failed checks in a row)`);
  },
});

export const standbyAssociations = defineCommand({
  path: ["standby", "associations"],
  summary: "which GPU instance each standby mirrors",
  options: { stack: stackOption, json: jsonOption },
  async action({ values }) {
    const ctx = await (await stackContextModule()).loadStackContext(values.stack);
    const { slot, state } = ctx.slot();
    const association = { stack: values.stack, slot, gpuInstanceId: state.instanceId, gpu: `${state.host}:${state.port}`, standby: ctx.outputs.standby };
    if (values.json) console.log(JSON.stringify(association, null, 2));
    else if (!ctx.outputs.standby) console.log(`stack ${values.stack}: GPU ${state.instanceId} (slot ${slot}) has no standby`);
    else console.log(`stack ${values.stack}: GPU ${state.instanceId} (slot ${slot}, ${state.host}:${state.port}) → standby ${ctx.outputs.standby.user}@${ctx.outputs.standby.host}:${ctx.outputs.standby.port}`);
  },
});

/** The flags of `standby configure`: each sets one setting of the stack, whose meaning the contract declares. */
const standbySettings = {
  enabled: "autoStandbyEnabled", "gcp-zone": "gcpZone", "gcp-machine-type": "gcpMachineType", "gcp-disk-size": "gcpDiskSize",
  "gcp-spot": "gcpSpot", "gcp-project": "gcpProject", "sync-interval": "syncInterval", "health-check-interval": "healthCheckInterval",
  "failover-threshold": "failoverThreshold", "auto-failover": "autoFailover", "auto-recovery": "autoRecovery",
} as const satisfies Readonly<Record<string, SettingKey>>;

const settingOptions: OptionTable = Object.fromEntries(Object.entries(standbySettings).map(([flag, setting]) => [
  flag, { type: "string", value: "V", absent: "unchanged", meaning: `dumont:${setting}: ${declarations[setting].meaning}` },
]));

export const standbyConfigure = defineCommand({
  path: ["standby", "configure"],
  summary: "set the standby's settings in the stack (then `dumont up` applies them)",
  options: { ...settingOptions, stack: stackOption },
  async action({ values: declared }) {
    // The setting flags come from a table, so their names are not known to the type of `values`.
    const values = declared as typeof declared & Readonly<Record<string, string | undefined>>;
    const changes = Object.entries(standbySettings).filter(([flag]) => values[flag] !== undefined);
    if (changes.length === 0) throw new UsageError("nothing to configure", `flags: ${Object.keys(standbySettings).map((k) => `--${k}`).join(" ")}`);
    const stack = await (await workspaceModule()).openProjectStack(values.stack);
    for (const [flag, setting] of changes) await stack.setConfig(`dumont:${setting}`, { value: String(values[flag]) });
    // Read back through the settings checks, so a bad value is reported now, not at the next up.
    await (await stackContextModule()).loadStackContext(values.stack, { requireOutputs: false });
    console.log(`set ${changes.map(([flag, setting]) => `${setting}=${values[flag]}`).join(", ")}; run \`dumont up --stack ${values.stack}\` to apply`);
  },
});
