// A standby host in the local cloud: the same host machinery as GPU instances (a network namespace
// with its own sshd and /workspace), created through the local cloud's admin API.
import * as pulumi from "@pulumi/pulumi";
import { accessSource, cloudAccess, goneWithLocalCloud, keepConfig, type ConfiguredProvider } from "../provider-config.ts";

export interface LocalStandbyInputs {
  readonly name: string;
  readonly sshPublicKey: string;
  /** Declared running: a standby whose machine stopped (preempted) is started by the next up after a refresh. */
  readonly running?: boolean;
}

export interface LocalStandbyOutputs extends LocalStandbyInputs {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly hostKey: string;
}

const adminModule = new URL("../../local-cloud/admin-client.ts", import.meta.url).pathname;


async function admin(provider: ConfiguredProvider) {
  const { LocalCloudAdmin } = await import(adminModule);
  return new LocalCloudAdmin(await (await cloudAccess()).localCloudEndpoints(await accessSource(provider)));
}

const localStandbyProvider: pulumi.dynamic.ResourceProvider<LocalStandbyInputs, LocalStandbyOutputs> & ConfiguredProvider = {
  configure: keepConfig,
  async create(inputs) {
    const host = await (await admin(this)).createStandby(inputs.name, [inputs.sshPublicKey]);
    return { id: inputs.name, outs: { ...inputs, running: true, host: host.address, port: host.sshPort, user: "root", hostKey: host.hostKey } };
  },
  async diff(_id, olds, news) {
    const replaces = (["name", "sshPublicKey"] as const).filter((k) => olds[k] !== news[k]);
    const restart = news.running !== false && olds.running !== true;
    return { changes: replaces.length > 0 || restart, replaces, deleteBeforeReplace: true };
  },
  async update(id, _olds, news) {
    const host = await (await admin(this)).startStandby(id);
    return { outs: { ...news, running: true, host: host.address, port: host.sshPort, user: "root", hostKey: host.hostKey } };
  },
  async read(id, props) {
    if (await goneWithLocalCloud(this)) return { id: "" };
    const host = await (await admin(this)).standby(id);
    return host ? { id, props: { ...props!, running: host.state === "running", host: host.address, port: host.sshPort, hostKey: host.hostKey } } : { id: "" };
  },
  async delete(id) {
    if (await goneWithLocalCloud(this)) return;
    await (await admin(this)).destroyStandby(id);
  },
};

export class LocalStandbyHost extends pulumi.dynamic.Resource {
  declare readonly host: pulumi.Output<string>;
  declare readonly port: pulumi.Output<number>;
  declare readonly user: pulumi.Output<string>;
  declare readonly hostKey: pulumi.Output<string>;

  constructor(name: string, args: { name: pulumi.Input<string>; sshPublicKey: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
    super(localStandbyProvider, name, { ...args, running: true, host: undefined, port: undefined, user: undefined, hostKey: undefined }, opts, "dumont", "LocalStandbyHost");
  }
}
