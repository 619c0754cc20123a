// The GCP standby's host key as the VM published it (startup-script.ts): read back from its guest
// attributes, which only the VM itself can write, through GCP's authenticated API. That is what
// Dumont pins, so a connection to the standby is never trust-on-first-use, and no private key is in
// the metadata or the Pulumi state. The VM publishes at the end of its startup script (minutes on a
// fresh VM that installs rsync), so an update waits for it.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { DumontError } from "../../lib/errors.ts";
import { pollUntil } from "../../lib/retry.ts";
import { hostKeyGuestAttribute } from "./startup-script.ts";

/** An ed25519 public key line, type and key only: what sshd presents and Dumont compares. */
const hostKeyLine = /^ssh-ed25519 [A-Za-z0-9+/]+={0,2}$/;

export interface PublishedHostKeyOptions {
  /** How long a new VM may take to boot and publish. Default 15 minutes. */
  readonly timeoutMs?: number;
  readonly pollMs?: number;
}

type Attempt = { readonly key: string } | { readonly problem: string };

export function publishedHostKey(
  vm: gcp.compute.Instance, invokeOptions: pulumi.InvokeOptions, options: PublishedHostKeyOptions = {},
): pulumi.Output<string> {
  const variableKey = `${hostKeyGuestAttribute.namespace}/${hostKeyGuestAttribute.key}`;
  return pulumi.all([vm.name, vm.zone, vm.project]).apply(async ([name, zone, project]) => {
    const attempt = async (): Promise<Attempt> => {
      try {
        const got = await gcp.compute.getInstanceGuestAttributes({ name, zone, project, variableKey }, invokeOptions);
        const value = (got.variableValue ?? "").trim();
        if (hostKeyLine.test(value)) return { key: value };
        return { problem: value === "" ? "nothing published yet" : `'${value.slice(0, 100)}' is not an ed25519 public key` };
      } catch (error) {
        // Not published yet (GCP answers 404), or a permission the credentials lack.
        return { problem: (error as Error).message.split("\n")[0]! };
      }
    };
    // A preview does not wait for a VM that is stopped or still booting: the key is unknown until the update.
    if (pulumi.runtime.isDryRun()) {
      const once = await attempt();
      return "key" in once ? once.key : (pulumi.unknown as unknown as string);
    }
    let problem = "";
    return pollUntil(async () => {
      const got = await attempt();
      if ("key" in got) return got.key;
      problem = got.problem;
      return undefined;
    }, {
      intervalMs: options.pollMs ?? 5000,
      timeoutMs: options.timeoutMs ?? 15 * 60_000,
      timeoutError: () => new DumontError(`the standby VM ${name} did not publish its SSH host key (guest attribute ${variableKey}): ${problem}`, {
        hint: "its serial console shows the startup script's output; the GCP credentials need compute.instances.getGuestAttributes",
      }),
    });
  });
}
