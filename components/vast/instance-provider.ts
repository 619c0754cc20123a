// The dynamic provider behind a Vast.ai GPU instance. The engine runs a serialized copy of this
// object in its own process, so it captures nothing but two module paths: the work happens in
// instance-operations.ts, and credentials are read in `configure` from the stack's config (or the
// local cloud), never captured here.
import * as pulumi from "@pulumi/pulumi";
import { accessSource, cloudAccess, goneWithLocalCloud, keepConfig, type ConfiguredProvider } from "../provider-config.ts";
import type { OutputsOf } from "../../contract/stack-outputs.ts";
import type { VastInstanceInputs, VastInstanceOutputs } from "./instance-operations.ts";
import { rentedFields } from "./rented-instance.ts";

const operationsModule = new URL("./instance-operations.ts", import.meta.url).pathname;

/** Changing one of these means another machine: the instance is replaced. Others update in place. */
export const replacingInputs = ["gpuNames", "gpuCount", "diskGb", "image", "onstart", "env", "sshPublicKey", "directSsh"] as const;


async function access(provider: ConfiguredProvider) {
  return (await cloudAccess()).vastAccess(await accessSource(provider));
}

export const vastInstanceProvider: pulumi.dynamic.ResourceProvider<VastInstanceInputs, VastInstanceOutputs> & ConfiguredProvider = {
  configure: keepConfig,

  async check(_olds, news) {
    const { checkInstanceInputs } = await import(operationsModule);
    return { inputs: news, failures: checkInstanceInputs(news) };
  },

  async diff(_id, olds, news) {
    const changed = (Object.keys({ ...olds, ...news }) as Array<keyof VastInstanceInputs>).filter(
      (key) => key in news && JSON.stringify(olds[key]) !== JSON.stringify(news[key]),
    );
    const replaces = changed.filter((key) => (replacingInputs as readonly string[]).includes(key));
    return { changes: changed.length > 0, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    const { adoptInstance, createInstance } = await import(operationsModule);
    const outs: VastInstanceOutputs = inputs.adopt
      ? await adoptInstance(await access(this), inputs, (line: string) => console.error(line))
      : await createInstance(await access(this), inputs, (line: string) => console.error(line));
    return { id: String(outs.instanceId), outs };
  },

  async read(id, props) {
    if (await goneWithLocalCloud(this)) return { id: "" };
    const { readInstance } = await import(operationsModule);
    const current: VastInstanceOutputs | undefined = await readInstance(await access(this), Number(id), props!);
    // A blank id tells the engine the instance is gone.
    return current ? { id, props: current } : { id: "" };
  },

  async update(id, olds, news) {
    const { relabel } = await import(operationsModule);
    if (olds.label !== news.label) {
      await relabel(await access(this), Number(id), `${news.label}.${olds.vastLabel.split(".").at(-1)}`);
    }
    return { outs: { ...olds, ...news } };
  },

  async delete(id) {
    if (await goneWithLocalCloud(this)) return;
    const { deleteInstance } = await import(operationsModule);
    await deleteInstance(await access(this), Number(id));
  },
};

export type VastInstanceArgs = { readonly [K in keyof VastInstanceInputs]: pulumi.Input<VastInstanceInputs[K]> };

/**
 * What the instance is given that must never be stored or shown in plain text: the key that logs
 * in, and what it runs at start with its environment (where tokens go, whether or not they were
 * set with `pulumi config set --secret`). Secret as inputs and as the provider's outputs, so the
 * state holds them encrypted and previews show [secret].
 */
export const secretInstanceInputs = ["sshPrivateKey", "onstart", "env"] as const satisfies ReadonlyArray<keyof VastInstanceInputs>;

function withSecretInputs(args: VastInstanceArgs): VastInstanceArgs {
  const secrets: Record<string, pulumi.Output<unknown>> = {};
  for (const key of secretInstanceInputs) if (args[key] !== undefined) secrets[key] = pulumi.secret(args[key]);
  return { ...args, ...secrets };
}

/** A rented Vast.ai instance: its outputs are the provider's (VastInstanceOutputs), its inputs among them. */
export interface VastInstance extends OutputsOf<VastInstanceOutputs> {}
export class VastInstance extends pulumi.dynamic.Resource {
  constructor(name: string, args: VastInstanceArgs, opts?: pulumi.CustomResourceOptions) {
    // Every output that is not an input, so that the engine knows it (and the type checker that none is left out).
    const outputs = Object.fromEntries(rentedFields.map((field) => [field, undefined]));
    super(vastInstanceProvider, name, { ...withSecretInputs(args), ...outputs }, {
      ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...secretInstanceInputs],
    }, "dumont", "VastInstance");
  }
}
