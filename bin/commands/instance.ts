// `dumont instance list | status | destroy`: the Vast account's instances, for looking and for
// manual cleanup (the seed's `dumont instance destroy --pattern "test-failover-*"`). The account is
// the one a stack's settings reach (--stack, default local), so the same command works on both clouds.
import { sanitizeHostLine } from "../../dataplane/ssh/sanitize.ts";
import { UsageError, UserError } from "../../lib/errors.ts";
import { matchesPattern } from "../../lib/name-pattern.ts";
import { columns, formatAge } from "../../lib/text-table.ts";
import type { VastInstance } from "../../clouds/vast/client.ts";
import { defineCommand } from "../cli/command.ts";
import { jsonOption, stackOption } from "../cli/shared-options.ts";

// Loaded when the command runs, not when `dumont --help` lists it: they bring Pulumi, ssh2, the AWS SDK.
const stackContextModule = () => import("../../stacks/stack-context.ts");
const recordsModule = () => import("../../stacks/throwaway/records.ts");

/** The account is the one a stack's settings reach: the same commands work on both clouds. */
const accountOptions = {
  stack: { ...stackOption, meaning: "the stack whose cloud and Vast account (dumont:vastApiKey, or the local cloud) to use" },
  json: jsonOption,
} as const;

const patternOption = { type: "string", value: "PATTERN", meaning: "instances whose label matches this shell wildcard pattern, e.g. 'dumont-journey-*'" } as const;

async function vastOf(stack: string) {
  return (await (await stackContextModule()).loadStackContext(stack, { requireOutputs: false })).vast();
}

function table(list: readonly VastInstance[]): string {
  if (list.length === 0) return "no instances";
  const rows = list.map((i) => [String(i.id), String(i.label ?? "-"), String(i.actual_status ?? "?"), String(i.gpu_name ?? "?"), `$${Number(i.dph_total ?? 0).toFixed(4)}`, formatAge(Date.now() / 1000 - Number(i.start_date))]);
  return columns(["ID", "LABEL", "STATUS", "GPU", "$/H", "AGE"], rows);
}

/**
 * What Vast hands back of the renter's secrets — the instance's start script, its environment and
 * its tokens — never reaches a terminal, a log or a CI transcript: --json shows "[secret]" instead.
 */
const secretInstanceFields = ["onstart", "jupyter_token", "instance_api_key"];

function withoutSecrets(instance: VastInstance): VastInstance {
  const shown: Record<string, unknown> = { ...instance };
  for (const field of secretInstanceFields) if (shown[field]) shown[field] = "[secret]";
  const env = shown.extra_env;
  if (Array.isArray(env)) shown.extra_env = env.map((pair) => (Array.isArray(pair) ? [pair[0], "[secret]"] : "[secret]"));
  else if (env && typeof env === "object") shown.extra_env = Object.fromEntries(Object.keys(env).map((key) => [key, "[secret]"]));
  return shown as VastInstance;
}

function parseId(text: string | undefined): number {
  if (!text || !/^\d+$/.test(text)) throw new UsageError(`'${text ?? ""}' is not an instance id`, "see `dumont instance list`");
  return Number(text);
}

export const instanceList = defineCommand({
  path: ["instance", "list"],
  summary: "list the account's Vast instances: label, status, GPU, $/h, age",
  options: {
    ...accountOptions,
    pattern: { ...patternOption, absent: "every instance" },
    status: { type: "string", value: "STATUS", absent: "any status", meaning: "only instances in this state as Vast reports it: running, loading, exited, offline …" },
  },
  async action({ values }) {
    const all = await (await vastOf(values.stack)).listInstances();
    const chosen = all.filter((i) => (!values.pattern || matchesPattern(String(i.label ?? ""), values.pattern)) && (!values.status || i.actual_status === values.status));
    console.log(values.json ? JSON.stringify(chosen.map(withoutSecrets), null, 2) : table(chosen));
  },
});

export const instanceStatus = defineCommand({
  path: ["instance", "status"],
  summary: "one instance as Vast reports it (status, message, SSH endpoints, price)",
  positionals: [{ name: "ID", required: true, meaning: "the instance id (see `dumont instance list`)" }],
  options: accountOptions,
  async action({ values, positionals }) {
    const id = parseId(positionals[0]);
    const instance = await (await vastOf(values.stack)).showInstance(id);
    if (!instance) throw new UserError(`instance ${id} does not exist (or no longer)`, "see `dumont instance list`");
    if (values.json) return void console.log(JSON.stringify(withoutSecrets(instance), null, 2));
    console.log(table([instance]));
    if (instance.status_msg) console.log(`message: ${sanitizeHostLine(String(instance.status_msg).trim(), 500)}`);
    if (instance.ssh_host) console.log(`ssh proxy: ${sanitizeHostLine(`${instance.ssh_host}:${instance.ssh_port}`)}`);
  },
});

export const instanceDestroy = defineCommand({
  path: ["instance", "destroy"],
  summary: "destroy instances by id or label --pattern (shell wildcards); storage billing stops too",
  positionals: [{ name: "ID", repeatable: true, meaning: "the instances to destroy (or give --pattern)" }],
  options: { ...accountOptions, pattern: { ...patternOption, absent: "none: give instance ids instead" } },
  async action({ values, positionals }) {
    if (positionals.length === 0 && !values.pattern) throw new UsageError("give an instance ID or --pattern PATTERN", "see `npx dumont instance list`");
    if (positionals.length > 0 && values.pattern) throw new UsageError("give an instance ID or --pattern, not both");
    const vast = await vastOf(values.stack);
    const doomed = values.pattern
      ? (await vast.listInstances()).filter((i) => matchesPattern(String(i.label ?? ""), values.pattern!)).map((i) => i.id)
      : positionals.map(parseId);
    for (const id of doomed) {
      await vast.destroyInstance(id);
      // A throwaway's login key and pinned host key (dumont instance create) go with it; ids are
      // per account, so only the record of one rented through this stack's account.
      if ((await recordsModule()).readThrowaway(id)?.stack === values.stack) (await recordsModule()).forgetThrowaway(id);
      if (!values.json) console.log(`destroyed ${id}`);
    }
    if (values.json) console.log(JSON.stringify({ destroyed: doomed }));
    else if (doomed.length === 0) console.log(`no instance label matches '${values.pattern}'`);
  },
});
