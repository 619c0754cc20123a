// The CPU standby on GCP: a Spot VM (no automatic restart, stopped on preemption) with a firewall
// rule that opens SSH only to the configured ranges, and a startup script that makes it an rsync
// target with a host key the VM made itself and published for Dumont to pin (published-host-key.ts).
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { settingDefaults } from "../../contract/settings-schema.ts";
import { publishedHostKey } from "./published-host-key.ts";
import { standbyStartupScript } from "./startup-script.ts";

export interface GcpStandbyArgs {
  readonly project: pulumi.Input<string>;
  /** Default: dumont:gcpZone's (contract/settings-schema.ts, as every default here). */
  readonly zone?: pulumi.Input<string>;
  /** Default: dumont:gcpMachineType's. */
  readonly machineType?: pulumi.Input<string>;
  /** Boot disk in GB, holding /workspace. Default: dumont:gcpDiskSize's. */
  readonly diskGb?: pulumi.Input<number>;
  /** Spot VM. Default: dumont:gcpSpot's. Decides the scheduling block, so plain. */
  readonly spot?: boolean;
  /** Service-account key JSON; a secret. */
  readonly credentials: pulumi.Input<string>;
  readonly sshPublicKey: pulumi.Input<string>;
  /** Source ranges allowed to reach port 22. Default: dumont:standbySshSourceRanges's (keys only, passwords off). */
  readonly sshSourceRanges?: pulumi.Input<pulumi.Input<string>[]>;
  /** Network tag tying the firewall rule to this VM. */
  readonly networkTag: string;
  /** Keep the VM and its address as they are (see StandbyArgs.pinned). */
  readonly pinned?: boolean;
}

/** Scheduling for a Spot VM as GCP requires it: SPOT implies preemptible and no automatic restart. */
export function spotScheduling(spot: boolean): gcp.types.input.compute.InstanceScheduling {
  return spot
    ? { provisioningModel: "SPOT", preemptible: true, automaticRestart: false, onHostMaintenance: "TERMINATE", instanceTerminationAction: "STOP" }
    : { provisioningModel: "STANDARD", preemptible: false, automaticRestart: true, onHostMaintenance: "MIGRATE" };
}

export const standbyUser = "dumont";

export function createGcpStandby(name: string, parent: pulumi.Resource, args: GcpStandbyArgs) {
  const zone = args.zone ?? settingDefaults.gcpZone;
  const provider = new gcp.Provider(`${name}-gcp`, { project: args.project, zone, credentials: args.credentials }, { parent });
  const firewall = new gcp.compute.Firewall(`${name}-ssh`, {
    network: "default",
    direction: "INGRESS",
    allows: [{ protocol: "tcp", ports: ["22"] }],
    sourceRanges: args.sshSourceRanges ?? [...settingDefaults.standbySshSourceRanges],
    targetTags: [args.networkTag],
    description: "SSH to the Dumont standby (key-only)",
  }, { parent, provider });
  // A Spot VM stopped by preemption gets a new ephemeral address when it starts again; a static one
  // keeps the address (and so the GPU hosts' pinned known_hosts entry) across preemptions.
  const address = new gcp.compute.Address(`${name}-ip`, { region: pulumi.output(zone).apply((z) => z.replace(/-[a-z]$/, "")), description: "Dumont standby" }, {
    parent, provider, ...(args.pinned && { ignoreChanges: ["region"] }),
  });
  const vm = new gcp.compute.Instance(`${name}-vm`, {
    zone,
    machineType: args.machineType ?? settingDefaults.gcpMachineType,
    tags: [args.networkTag],
    bootDisk: { initializeParams: { image: "debian-cloud/debian-12", size: args.diskGb ?? settingDefaults.gcpDiskSize, type: "pd-balanced" } },
    networkInterfaces: [{ network: "default", accessConfigs: [{ natIp: address.address }] }],
    // A preempted Spot VM is TERMINATED; refresh + up starts it again (a failover's standby revival).
    desiredStatus: "RUNNING",
    scheduling: spotScheduling(args.spot ?? settingDefaults.gcpSpot),
    metadata: {
      "ssh-keys": pulumi.interpolate`${standbyUser}:${args.sshPublicKey}`,
      "enable-oslogin": "FALSE",
      // Only the environment's key logs in: not the keys of everyone with access to the project.
      "block-project-ssh-keys": "TRUE",
      // How the VM hands Dumont its host key.
      "enable-guest-attributes": "TRUE",
    },
    // Nothing secret in it: every process on the VM can read its metadata.
    metadataStartupScript: standbyStartupScript({ user: standbyUser }),
    allowStoppingForUpdate: true,
    labels: { "managed-by": "dumont" },
  }, {
    parent, provider, dependsOn: [firewall],
    ...(args.pinned && { ignoreChanges: ["zone", "machineType", "bootDisk", "scheduling", "metadata", "metadataStartupScript", "tags", "networkInterfaces"] }),
  });
  return {
    // The address the VM really has (a VM made before the static address keeps its own until it is replaced).
    host: vm.networkInterfaces.apply((nics) => nics[0]?.accessConfigs?.[0]?.natIp ?? ""),
    port: pulumi.output(22),
    user: pulumi.output(standbyUser),
    hostKey: publishedHostKey(vm, { parent, provider }),
  };
}
