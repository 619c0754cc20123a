// The CPU standby that mirrors /workspace: a GCP Spot VM for real environments, a local-cloud host
// for local ones. Both give the same outputs, so sync and failover do not care which it is.
import * as pulumi from "@pulumi/pulumi";
import type { OutputsOf, StandbyOutputs } from "../../contract/stack-outputs.ts";
import { createGcpStandby, type GcpStandbyArgs } from "./gcp-standby.ts";
import { LocalStandbyHost } from "./local-standby-provider.ts";

export interface StandbyArgs {
  /** Which implementation; it decides which resources exist, so it is a plain value. */
  readonly kind: "gcp" | "local";
  readonly sshPublicKey: pulumi.Input<string>;
  /** Name of the local-cloud host (kind local). */
  readonly localName?: pulumi.Input<string>;
  /** GCP settings (kind gcp). */
  readonly gcp?: Omit<GcpStandbyArgs, "sshPublicKey" | "pinned">;
  /**
   * Keep the standby as it is whatever its settings say now (failover and watch run their updates
   * so: a changed zone or an exported variable must not replace the copy they rely on).
   */
  readonly pinned?: boolean;
}

/** Its outputs are the stack's standby outputs (contract/stack-outputs.ts). */
export class Standby extends pulumi.ComponentResource implements OutputsOf<StandbyOutputs> {
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly user: pulumi.Output<string>;
  readonly hostKey: pulumi.Output<string>;

  constructor(name: string, args: StandbyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dumont:index:Standby", name, {}, opts);
    const created = createStandby(name, this, args);
    this.host = created.host;
    this.port = created.port;
    this.user = created.user;
    this.hostKey = created.hostKey;
    this.registerOutputs({ host: this.host, port: this.port, user: this.user, hostKey: this.hostKey });
  }
}

export function createStandby(name: string, parent: pulumi.Resource, args: StandbyArgs) {
  if (args.kind === "gcp") {
    if (!args.gcp) throw new Error("Standby: kind 'gcp' needs its gcp settings");
    return createGcpStandby(name, parent, { ...args.gcp, sshPublicKey: args.sshPublicKey, pinned: args.pinned });
  }
  const host = new LocalStandbyHost(`${name}-host`, { name: args.localName ?? name, sshPublicKey: args.sshPublicKey }, {
    parent, ...(args.pinned && { ignoreChanges: ["name", "sshPublicKey"] }),
  });
  return { host: host.host, port: host.port, user: host.user, hostKey: host.hostKey };
}
