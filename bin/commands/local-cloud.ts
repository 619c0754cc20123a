// `dumont local-cloud up | down | status | fault`: the local cloud's life and its faults.
import { UsageError, UserError } from "../../lib/errors.ts";
import { readEndpoints, type Endpoints } from "../../local-cloud/endpoints.ts";
import { faultKinds, validateFault } from "../../local-cloud/faults.ts";
import { defineCommand } from "../cli/command.ts";
import { jsonOption, localCloudOption } from "../cli/shared-options.ts";

// Loaded when the command runs, not when `dumont --help` lists it: they bring Pulumi, ssh2, the AWS SDK.
const adminClientModule = () => import("../../local-cloud/admin-client.ts");
const controlModule = () => import("../../local-cloud/control.ts");

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

const delayOption = (what: string) => ({ type: "string", value: "MS", absent: "the emulator's own (a second or two)", meaning: `how long a rented instance stays ${what}, in milliseconds` }) as const;

export const localCloudUp = defineCommand({
  path: ["local-cloud", "up"],
  summary: "start the local cloud (Vast API emulator, SSH hosts, MinIO) and print its endpoints",
  options: {
    json: { ...jsonOption, meaning: "print the endpoints and their credentials as JSON (for programs) instead of text" },
    cloud: localCloudOption,
    "loading-delay": delayOption("without a status before `loading`"),
    "running-delay": delayOption("`loading` before `running`"),
  },
  async action({ values }) {
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
    const endpoints = await (await controlModule()).up({ cloud: values.cloud, settings, onProgress: (l) => !values.json && console.error(l) });
    if (values.json) console.log(JSON.stringify(endpoints, null, 2));
    else console.log(`${describe(endpoints)}\nready in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  },
});

export const localCloudDown = defineCommand({
  path: ["local-cloud", "down"],
  summary: "stop the local cloud and remove every host, namespace, link, process and file it made",
  options: { cloud: localCloudOption },
  async action({ values }) {
    const report = await (await controlModule()).down(values.cloud);
    const f = report.forced;
    if (f.namespaces.length + f.links.length + f.processes > 0) {
      console.log(`removed leftovers: ${f.namespaces.length} namespaces, ${f.links.length} links, ${f.processes} processes`);
    }
    console.log(`local cloud '${values.cloud}' is down`);
  },
});

export const localCloudStatus = defineCommand({
  path: ["local-cloud", "status"],
  summary: "show whether the local cloud runs, its hosts, instances and armed faults",
  options: { json: jsonOption, cloud: localCloudOption },
  async action({ values }) {
    const report = await (await controlModule()).status(values.cloud);
    if (values.json) {
      console.log(JSON.stringify(report, null, 2));
      return report.running ? 0 : 1;
    }
    if (!report.running) {
      console.log(`local cloud '${values.cloud}' is not running`);
      const n = report.onMachine.namespaces.length + report.onMachine.links.length + report.onMachine.loopDevices.length;
      if (n > 0) console.log(`  ${n} of its namespaces/links/loop devices are still on this machine: run \`dumont local-cloud down\``);
      return 1;
    }
    console.log(describe(report.endpoints!));
    const c = (report.cloud ?? {}) as { instances?: Array<Record<string, unknown>>; standbys?: unknown[]; faults?: unknown[]; offers_available?: number; offers_total?: number };
    console.log(`  offers     ${c.offers_available}/${c.offers_total} available`);
    console.log(`  instances  ${c.instances?.length ?? 0}${(c.instances ?? []).map((i) => `\n    ${i.id} ${i.actual_status} ${i.label ?? ""}`).join("")}`);
    console.log(`  standbys   ${c.standbys?.length ?? 0}`);
    console.log(`  faults     ${c.faults?.length ?? 0} armed`);
  },
});

export const localCloudFault = defineCommand({
  path: ["local-cloud", "fault"],
  summary: "inject a fault (a host killed or hung, a link cut, an API or S3 storm, an offer taken …) or clear them all",
  positionals: [{ name: "KIND", required: true, meaning: `the fault: ${faultKinds.join(", ")}; or clear, which undoes them all` }],
  options: {
    target: { type: "string", value: "ID|NAME", absent: "none (host faults need one)", meaning: "the instance id or standby host name a host fault hits; the offer id for offer-taken" },
    count: { type: "string", value: "N", absent: "1", meaning: "how many times an API fault fires before it disarms" },
    rate: { type: "string", value: "R", absent: "1 (every request)", meaning: "for s3-errors: the share of requests that fail, 0 to 1" },
    status: { type: "string", value: "CODE", absent: "503 (SlowDown)", meaning: "for s3-errors: the HTTP status of the failures, 503 or 500" },
    ms: { type: "string", value: "MS", absent: "0", meaning: "for s3-latency and read-lag: the delay, in milliseconds" },
    "with-contract": { type: "boolean", meaning: "for ghost-instance: the error that answers the rent still names the new contract" },
    cloud: localCloudOption,
  },
  async action({ values, positionals }) {
    const kind = positionals[0]!;
    const endpoints = await readEndpoints(values.cloud);
    if (!endpoints) throw new UserError(`local cloud '${values.cloud}' is not running`, `start it with \`npx dumont local-cloud up${values.cloud === localCloudOption.default ? "" : ` --cloud ${values.cloud}`}\``);
    const admin = new (await adminClientModule()).LocalCloudAdmin(endpoints);
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
    // validateFault's refusals are the user's (UserError): a kind it does not know, a target missing.
    const spec = validateFault({
      kind, target: values.target, count: number("count", values.count), rate: number("rate", values.rate),
      status: number("status", values.status), ms: number("ms", values.ms), withContract: values["with-contract"],
    });
    const result = await admin.fault(spec);
    console.log(result.applied ?? `armed fault #${result.id} (${kind})`);
  },
});
