// Pulumi mocks for component unit tests: every resource registration is recorded with its inputs,
// secret inputs stay recognisable, and outputs a provider would compute get stand-in values.
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc.js";

export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
}

/** Outputs the real providers compute, so that dependent resources get values to work with. */
const computed: Record<string, Record<string, unknown>> = {
  "pulumi-nodejs:dynamic/dumont:SshKeyPair": { publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockMockMockMock unit", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nmock\n" },
  "pulumi-nodejs:dynamic/dumont:VastInstance": {
    instanceId: 29_000_001, sshHost: "10.0.0.2", sshPort: 22022, hostKey: "ssh-ed25519 AAAAhost", machineId: 7, gpuName: "RTX 4090", dphTotal: 0.3, dphBase: 0.29,
    storageCostPerGbMonth: 0.15, inetUpCostPerGb: 0.02, inetDownCostPerGb: 0.01,
  },
  "pulumi-nodejs:dynamic/dumont:LocalStandbyHost": { host: "10.0.0.3", port: 22023, user: "root", hostKey: "ssh-ed25519 AAAAstandby" },
  "pulumi-nodejs:dynamic/dumont:SnapshotBucket": { endpoint: "http://s3.mock", region: "us-east-1", scopedKeyId: "", scopedKey: "" },
  "gcp:compute/instance:Instance": { name: "env-standby-vm-1a2b3c", project: "my-project", networkInterfaces: [{ accessConfigs: [{ natIp: "203.0.113.9" }] }] },
};

/** What the standby VM publishes as its host key (components/standby/startup-script.ts), as GCP answers for it. */
export const publishedStandbyHostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPublishedByTheVm";

/** Answers of provider functions (invokes), by token; others echo their inputs. */
const invoked: Record<string, (inputs: Record<string, any>) => Record<string, unknown>> = {
  // Only the attribute the VM publishes its key under holds one.
  "gcp:compute/getInstanceGuestAttributes:getInstanceGuestAttributes": (inputs) => ({ variableValue: inputs.variableKey === "dumont/hostkey" ? publishedStandbyHostKey : "" }),
};

export async function recordRegistrations(config: Record<string, string>, stack = "unit"): Promise<Registration[]> {
  const registrations: Registration[] = [];
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [k.includes(":") ? k : `dumont:${k}`, v])));
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registrations.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: { ...args.inputs, ...computed[args.type] } };
      },
      call(args) {
        return { ...args.inputs, ...invoked[args.token]?.(args.inputs) };
      },
    },
    "dumont",
    stack,
    false,
  );
  return registrations;
}

export function isSecretInput(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

export function secretValue(value: unknown): unknown {
  return isSecretInput(value) ? (value as { value: unknown }).value : value;
}

/** The value of an output, once the mocked engine resolves it. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Lets queued registrations reach the mocks. */
export const settle = () => new Promise((r) => setTimeout(r, 50));
