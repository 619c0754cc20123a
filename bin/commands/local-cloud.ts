import { parseArgs } from "node:util";
import { UsageError } from "../../harness/errors.ts";
import { LocalCloudAdmin } from "../../harness/local-cloud/admin-client.ts";
import { down, status, up } from "../../harness/local-cloud/control.ts";
import { defaultCloudName, readEndpoints, type Endpoints } from "../../harness/local-cloud/endpoints.ts";
import { faultKinds, validateFault } from "../../harness/local-cloud/faults.ts";
import type { Command } from "./types.ts";

// The cloud a stack reaches by default is named by DUMONT_LOCAL_CLOUD too (stacks/settings.ts:
// dumont:localCloud), so one variable moves a whole session, README commands included, to another cloud.
const cloudOption = { cloud: { type: "string", default: process.env.DUMONT_LOCAL_CLOUD || defaultCloudName } } as const;

function describe(e: Endpoints): string {
  // Credentials stay in the endpoints file (mode 0600); --json emits them for programs.
  return [
    `local cloud '${e.cloud}' (pid ${e.pid}, since ${e.startedAt})`,
    `  Vast API   ${e.vast.url}   (API key in ${e.dir}/endpoints.json)`,
    `  S3         ${e.s3.endpoint}   region ${e.s3.region}   (MinIO ${e.s3.directEndpoint})`,
    `  network    ${e.network.bridge} ${e.network.subnet}, gateway ${e.network.gateway}`,
    `  admin      ${e.admin.url}`,
  ].join("\n");
}

export const localCloudUp: Command = {
  path: ["local-cloud", "up"],
  summary: "start the local cloud (Vast API emulator, SSH hosts, MinIO) and print its endpoints",
  usage: "[--json] [--cloud NAME (default $DUMONT_LOCAL_CLOUD or main)] [--loading-delay MS] [--running-delay MS]",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { ...cloudOption, json: { type: "boolean", default: false }, "loading-delay": { type: "string" }, "running-delay": { type: "string" } },
    });
    const delay = (name: string, value?: string) => {
      if (value === undefined) return undefined;
      const ms = Number(value);
      if (!Number.isInteger(ms) || ms < 0) throw new UsageError(`--${name} must be a whole number of milliseconds, not '${value}'`);
      return ms;
    };
    const settings = {
      ...(values["loading-delay"] !== undefined && { loadingDelayMs: delay("loading-delay", values["loading-delay"]) }),
      ...(values["running-delay"] !== undefined && { runningDelayMs: delay("running-delay", values["running-delay"]) }),
    };
    const started = performance.now();
    const endpoints = await up({ cloud: values.cloud, settings, onProgress: (l) => !values.json && console.error(l) });
    if (values.json) console.log(JSON.stringify(endpoints, null, 2));
    else console.log(`${describe(endpoints)}\nready in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  },
};

export const localCloudDown: Command = {
  path: ["local-cloud", "down"],
  summary: "stop the local cloud and remove every host, namespace, link, process and file it made",
  usage: "[--cloud NAME (default $DUMONT_LOCAL_CLOUD or main)]",
  async run(args) {
    const { values } = parseArgs({ args, options: cloudOption });
    const report = await down(values.cloud);
    const f = report.forced;
    if (f.namespaces.length + f.links.length + f.processes > 0) {
      console.log(`removed leftovers: ${f.namespaces.length} namespaces, ${f.links.length} links, ${f.processes} processes`);
    }
    console.log(`local cloud '${values.cloud}' is down`);
  },
};

export const localCloudStatus: Command = {
  path: ["local-cloud", "status"],
  summary: "show whether the local cloud runs, its hosts, instances and armed faults",
  usage: "[--json] [--cloud NAME (default $DUMONT_LOCAL_CLOUD or main)]",
  async run(args) {
    const { values } = parseArgs({ args, options: { ...cloudOption, json: { type: "boolean", default: false } } });
    const report = await status(values.cloud);
    if (values.json) {
      console.log(JSON.stringify(report, null, 2));
      return report.running ? 0 : 1;
    }
    if (!report.running) {
      console.log(`local cloud '${values.cloud}' is not running`);
      const n = report.onMachine.namespaces.length + report.onMachine.links.length;
      if (n > 0) console.log(`  ${n} of its namespaces/links are still on this machine: run \`dumont local-cloud down\``);
      return 1;
    }
    console.log(describe(report.endpoints!));
    const c = (report.cloud ?? {}) as { instances?: Array<Record<string, unknown>>; standbys?: unknown[]; faults?: unknown[]; offers_available?: number; offers_total?: number };
    console.log(`  offers     ${c.offers_available}/${c.offers_total} available`);
    console.log(`  instances  ${c.instances?.length ?? 0}${(c.instances ?? []).map((i) => `\n    ${i.id} ${i.actual_status} ${i.label ?? ""}`).join("")}`);
    console.log(`  standbys   ${c.standbys?.length ?? 0}`);
    console.log(`  faults     ${c.faults?.length ?? 0} armed`);
  },
};

export const localCloudFault: Command = {
  path: ["local-cloud", "fault"],
  summary: `inject a fault (${faultKinds.join(", ")}) or 'clear' them`,
  usage: "KIND|clear [--target ID|NAME] [--count N] [--rate R] [--status CODE] [--ms MS] [--with-contract] [--cloud NAME (default $DUMONT_LOCAL_CLOUD or main)]",
  async run(args) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true,
      options: {
        ...cloudOption, target: { type: "string" }, count: { type: "string" }, rate: { type: "string" },
        status: { type: "string" }, ms: { type: "string" }, "with-contract": { type: "boolean" },
      },
    });
    const kind = positionals[0];
    if (!kind) throw new UsageError("which fault? give a kind or 'clear'", `kinds: ${faultKinds.join(", ")}`);
    const endpoints = await readEndpoints(values.cloud);
    if (!endpoints) throw new UsageError(`local cloud '${values.cloud}' is not running`, "start it with `dumont local-cloud up`");
    const admin = new LocalCloudAdmin(endpoints);
    if (kind === "clear") {
      await admin.clearFaults();
      console.log("faults cleared; hung hosts resumed, cut links restored");
      return;
    }
    const number = (name: string, value?: string) => {
      if (value === undefined) return undefined;
      const n = Number(value);
      if (Number.isNaN(n)) throw new UsageError(`--${name} must be a number, not '${value}'`);
      return n;
    };
    let spec;
    try {
      spec = validateFault({
        kind, target: values.target, count: number("count", values.count), rate: number("rate", values.rate),
        status: number("status", values.status), ms: number("ms", values.ms), withContract: values["with-contract"],
      });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const result = await admin.fault(spec);
    console.log(result.applied ?? `armed fault #${result.id} (${kind})`);
  },
};
