// `dumont files create | validate`: the seed's failover test helper over a stack's GPU host.
import { readFileSync, writeFileSync } from "node:fs";
import { UsageError } from "../../lib/errors.ts";
import type { TestFilesRecord } from "../../dataplane/files/test-files.ts";
import { defineCommand } from "../cli/command.ts";
import { gpuSelectorExclusive, gpuSelectorOptions, jsonOption, stackOption } from "../cli/shared-options.ts";

// Loaded when the command runs, not when `dumont --help` lists it: they bring Pulumi, ssh2, the AWS SDK.
const testFilesModule = () => import("../../dataplane/files/test-files.ts");
const gpuHostModule = () => import("./gpu-host.ts");

export const filesCreate = defineCommand({
  path: ["files", "create"],
  summary: "create unique test files in a GPU host's /workspace and record path, size and MD5",
  options: {
    count: { type: "string", value: "N", default: "3", meaning: "how many files (a whole number from 1)" },
    output: { type: "string", value: "FILE", absent: "failover_files_<instance id>.json", meaning: "where to write the record of the files (path, size, MD5), for `dumont files validate`" },
    stack: stackOption,
    ...gpuSelectorOptions,
    json: jsonOption,
  },
  exclusive: [gpuSelectorExclusive],
  async action({ values }) {
    const count = Number(values.count);
    if (!Number.isInteger(count) || count < 1) throw new UsageError(`--count must be a whole number ≥ 1, not '${values.count}'`);
    await (await gpuHostModule()).withGpuHost({ stack: values.stack, slot: values.slot, instance: values.instance }, async (ssh, { instanceId }) => {
      const record = await (await testFilesModule()).createTestFiles(ssh, count, { instanceId });
      const output = values.output ?? `failover_files_${instanceId}.json`;
      writeFileSync(output, `${JSON.stringify(record, null, 2)}\n`);
      if (values.json) console.log(JSON.stringify({ output, ...record }, null, 2));
      else console.log(`created ${record.files.length} files in /workspace of instance ${instanceId}; metadata in ${output}`);
    });
  },
});

export const filesValidate = defineCommand({
  path: ["files", "validate"],
  summary: "check every recorded file's MD5 on a GPU host: Files validated N/N, success rate",
  positionals: [{ name: "FILE", required: true, meaning: "the record `dumont files create` wrote, e.g. failover_files_29012345.json" }],
  options: { stack: stackOption, ...gpuSelectorOptions, json: jsonOption },
  exclusive: [gpuSelectorExclusive],
  async action({ values, positionals }) {
    const file = positionals[0]!;
    let record: TestFilesRecord;
    try {
      record = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`, "give the file `dumont files create` wrote");
    }
    const validation = await (await gpuHostModule()).withGpuHost({ stack: values.stack, slot: values.slot, instance: values.instance }, async (ssh) => (await testFilesModule()).validateTestFiles(ssh, record));
    console.log(values.json ? JSON.stringify(validation, null, 2) : (await testFilesModule()).formatValidation(validation));
    return validation.validated === validation.total ? 0 : 1;
  },
});
