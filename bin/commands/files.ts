// `dumont files create | validate`: the seed's failover test helper over a stack's GPU host.
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { UsageError } from "../../harness/errors.ts";
import { createTestFiles, formatValidation, validateTestFiles, type TestFilesRecord } from "../../harness/files/test-files.ts";
import { withGpuHost } from "./gpu-host.ts";
import type { Command } from "./types.ts";

const options = { stack: { type: "string", default: "local" }, slot: { type: "string" }, instance: { type: "string" }, json: { type: "boolean", default: false } } as const;

export const filesCreate: Command = {
  path: ["files", "create"],
  summary: "create unique test files in a GPU host's /workspace and record path, size and MD5",
  usage: "[--count 3] [--output FILE (default failover_files_<instance>.json)] [--stack S] [--slot a|b | --instance ID]",
  async run(args) {
    const { values } = parseArgs({ args, options: { ...options, count: { type: "string", default: "3" }, output: { type: "string" } } });
    const count = Number(values.count);
    if (!Number.isInteger(count) || count < 1) throw new UsageError(`--count must be a whole number ≥ 1, not '${values.count}'`);
    await withGpuHost({ stack: values.stack!, slot: values.slot, instance: values.instance }, async (ssh, { instanceId }) => {
      const record = await createTestFiles(ssh, count, { instanceId });
      const output = values.output ?? `failover_files_${instanceId}.json`;
      writeFileSync(output, `${JSON.stringify(record, null, 2)}\n`);
      if (values.json) console.log(JSON.stringify({ output, ...record }, null, 2));
      else console.log(`created ${record.files.length} files in /workspace of instance ${instanceId}; metadata in ${output}`);
    });
  },
};

export const filesValidate: Command = {
  path: ["files", "validate"],
  summary: "check every recorded file's MD5 on a GPU host: Files validated N/N, success rate",
  usage: "FILE [--stack S] [--slot a|b | --instance ID] [--json]",
  async run(args) {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true });
    if (!positionals[0]) throw new UsageError("which metadata file? e.g. dumont files validate failover_files_29012345.json");
    let record: TestFilesRecord;
    try {
      record = JSON.parse(readFileSync(positionals[0], "utf8"));
    } catch (error) {
      throw new UsageError(`cannot read ${positionals[0]}: ${(error as Error).message}`);
    }
    const validation = await withGpuHost({ stack: values.stack!, slot: values.slot, instance: values.instance }, (ssh) => validateTestFiles(ssh, record));
    console.log(values.json ? JSON.stringify(validation, null, 2) : formatValidation(validation));
    return validation.validated === validation.total ? 0 : 1;
  },
};
