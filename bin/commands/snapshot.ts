// `dumont snapshot create | list | restore | delete | prune` on a stack's GPU hosts and bucket.
import { UsageError, UserError } from "../../lib/errors.ts";
import { columns, formatAge } from "../../lib/text-table.ts";
import { planDeletion, planRetention } from "../../dataplane/snapshot/retention.ts";
import type { SnapshotStore, SnapshotSummary } from "../../dataplane/snapshot/store.ts";
import { defineCommand } from "../cli/command.ts";
import { gpuSelectorExclusive, gpuSelectorOptions, jsonOption, stackOption } from "../cli/shared-options.ts";

// Loaded when the command runs, not when `dumont --help` lists it: they bring Pulumi, ssh2, the AWS SDK.
const createModule = () => import("../../dataplane/snapshot/create.ts");
const restoreModule = () => import("../../dataplane/snapshot/restore.ts");
const stackContextModule = () => import("../../stacks/stack-context.ts");
const gpuHostModule = () => import("./gpu-host.ts");

const stackWithBucket = { ...stackOption, meaning: "the stack whose bucket holds the snapshots (and whose GPU, unless --instance names another)" } as const;
const idOption = { type: "string", value: "ID", meaning: "the snapshot's id, as `dumont snapshot list` shows it" } as const;
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const progressTo = (json: boolean) => (line: string) => (json ? console.error(line) : console.log(line));

function age(createdAt: string): string {
  return formatAge((Date.now() - Date.parse(createdAt)) / 1000);
}

function table(list: readonly SnapshotSummary[]): string {
  if (list.length === 0) return "no snapshots";
  const rows = list.map((s) => [s.id, s.kind, String(s.files), mib(s.bytes), mib(s.archiveBytes), age(s.createdAt), s.parent ?? "-"]);
  return columns(["ID", "KIND", "FILES", "SIZE", "STORED", "AGE", "PARENT"], rows);
}

async function remove(store: SnapshotStore, doomed: readonly SnapshotSummary[], json: boolean): Promise<void> {
  // Newest first, so that no moment exists where a child is listed without its parent.
  for (const s of [...doomed].reverse()) await store.delete(s.id);
  if (json) console.log(JSON.stringify({ deleted: doomed.map((s) => s.id) }, null, 2));
  else console.log(doomed.length ? `deleted ${doomed.length}: ${doomed.map((s) => s.id).join(", ")}` : "nothing to delete");
}

export const snapshotCreate = defineCommand({
  path: ["snapshot", "create"],
  summary: "snapshot a GPU host's /workspace to the bucket (incremental on the newest unless --full)",
  options: {
    stack: stackWithBucket,
    ...gpuSelectorOptions,
    name: { type: "string", value: "NAME", absent: "snapshot-<instance id>", meaning: "the snapshot's name (1-100 letters, digits, dots, dashes, underscores); its id is the time and the name" },
    full: { type: "boolean", meaning: "a full snapshot, not an incremental one on the newest snapshot" },
    json: { ...jsonOption, meaning: "print the result as JSON on stdout (progress goes to stderr)" },
  },
  exclusive: [gpuSelectorExclusive],
  async action({ values }) {
    const ctx = await (await stackContextModule()).loadStackContext(values.stack);
    const store = await ctx.snapshotStore();
    await (await gpuHostModule()).withGpuHost({ stack: values.stack, slot: values.slot, instance: values.instance }, async (ssh, host) => {
      const result = await (await createModule()).createSnapshot({
        ssh, store, name: values.name ?? `snapshot-${host.instanceId}`, parent: values.full ? "full" : "auto",
        fullEvery: ctx.settings.snapshots.fullEvery, sourceLabel: host.sourceLabel, onProgress: progressTo(values.json),
      });
      const { entries: _, included: __, ...summary } = result.manifest;
      if (values.json) console.log(JSON.stringify({ ...summary, seconds: result.seconds }, null, 2));
      else console.log(`created ${result.manifest.id} in ${result.seconds.total.toFixed(1)}s`);
    }, ctx);
  },
});

export const snapshotList = defineCommand({
  path: ["snapshot", "list"],
  summary: "list snapshots: size, file count, age, parent (only complete ones: those with a manifest)",
  options: { stack: stackWithBucket, json: jsonOption },
  async action({ values }) {
    const list = await (await (await (await stackContextModule()).loadStackContext(values.stack)).snapshotStore()).list();
    console.log(values.json ? JSON.stringify(list, null, 2) : table(list));
  },
});

export const snapshotRestore = defineCommand({
  path: ["snapshot", "restore"],
  summary: "restore a snapshot (its whole chain) onto a GPU host's /workspace and verify every file",
  options: {
    id: { ...idOption, required: true, meaning: "the snapshot to restore, as `dumont snapshot list` shows it; an incremental one brings its whole chain" },
    stack: stackWithBucket,
    ...gpuSelectorOptions,
    json: { ...jsonOption, meaning: "print the result as JSON on stdout (progress goes to stderr)" },
  },
  exclusive: [gpuSelectorExclusive],
  async action({ values }) {
    const ctx = await (await stackContextModule()).loadStackContext(values.stack);
    const store = await ctx.snapshotStore();
    const report = await (await gpuHostModule()).withGpuHost({ stack: values.stack, slot: values.slot, instance: values.instance }, async (ssh) => (await restoreModule()).restoreSnapshot({ ssh, store, id: values.id, onProgress: progressTo(values.json) }), ctx);
    if (values.json) {
      // The first unstable files that differ (tree-verification.ts keeps 10,000), and how many in all.
      const unstable = report.warnings.map((w) => w.path);
      console.log(JSON.stringify({ id: report.manifest.id, ok: report.ok, files: report.manifest.stats.files, unstable, unstableCount: report.warningCount, seconds: report.seconds }, null, 2));
    }
  },
});

export const snapshotDelete = defineCommand({
  path: ["snapshot", "delete"],
  summary: "delete snapshots by --id or name --pattern (shell wildcards), with the incrementals that need them",
  options: {
    id: { ...idOption, absent: "none: give --id or --pattern" },
    pattern: { type: "string", value: "PATTERN", absent: "none: give --id or --pattern", meaning: "snapshots whose name matches this shell wildcard pattern, e.g. 'test-snapshot-*'" },
    stack: stackWithBucket,
    json: jsonOption,
  },
  async action({ values }) {
    if (!values.id && !values.pattern) throw new UsageError("give --id ID or --pattern PATTERN", "see `npx dumont snapshot list`");
    const store = await (await (await stackContextModule()).loadStackContext(values.stack)).snapshotStore();
    const all = await store.list();
    const doomed = planDeletion(all, { id: values.id, pattern: values.pattern });
    if (values.id && doomed.length === 0) throw new UserError(`no snapshot '${values.id}'`, "see `npx dumont snapshot list`");
    await remove(store, doomed, values.json);
  },
});

export const snapshotPrune = defineCommand({
  path: ["snapshot", "prune"],
  summary: "keep the newest N snapshots (and the ancestors they need); delete the rest, and what interrupted snapshots left over a day ago",
  options: {
    keep: { type: "string", value: "N", absent: "the stack's dumont:snapshotKeep", meaning: "how many of the newest snapshots to keep (a whole number from 1)" },
    stack: stackWithBucket,
    json: jsonOption,
  },
  async action({ values }) {
    const ctx = await (await stackContextModule()).loadStackContext(values.stack);
    const keep = values.keep === undefined ? ctx.settings.snapshots.keep : Number(values.keep);
    if (!Number.isInteger(keep) || keep < 1) throw new UsageError(`--keep must be a whole number ≥ 1, not '${values.keep}'`);
    const store = await ctx.snapshotStore();
    await remove(store, planRetention(await store.list(), keep), values.json);
    const abandoned = await store.collectAbandoned();
    if (!values.json && (abandoned.archives.length || abandoned.uploads)) {
      console.log(`removed ${abandoned.archives.length} archive(s) without a manifest and ${abandoned.uploads} unfinished upload(s) from interrupted snapshots`);
    }
  },
});
