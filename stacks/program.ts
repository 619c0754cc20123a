// The Pulumi program of every Dumont stack: `pulumi up --stack local` (or dev, prod …) runs it, and
// so do Dumont's Automation API operations. It reads and checks the stack's settings, then
// declares the environment and exports what the operations need.
import * as pulumi from "@pulumi/pulumi";
import { Environment } from "../components/environment.ts";
import { environmentArgs } from "./environment-args.ts";
import { programSettingSource } from "./program-settings.ts";
import { readSettings } from "./settings.ts";
import { readSlotRecord, withSlotRecord } from "./slot-record.ts";

// Slots, the active slot and excluded machines come from the stack's record once a failover wrote one.
const settings = withSlotRecord(readSettings(programSettingSource(), pulumi.getStack()), readSlotRecord(pulumi.getStack()));
const env = new Environment("env", environmentArgs(settings, new pulumi.Config("dumont")));

const slot = (s: "a" | "b") => {
  const o = env.slots[s];
  return o ? pulumi.output({ ...o }) : null;
};

export const cloud = settings.cloud;
export const localCloud = settings.localCloud;
export const activeSlot = env.activeSlot;
export const provisionedSlots = settings.provisionedSlots;
export const slots = { a: slot("a"), b: slot("b") };
export const standby = env.standby ? pulumi.output({ ...env.standby }) : null;
export const bucket = pulumi.output({
  name: env.bucket.bucketName, endpoint: env.bucket.endpoint, region: env.bucket.region, prefix: env.bucket.prefix, keyId: env.bucket.scopedKeyId,
});
/** The application key limited to the bucket and prefix that operations use (empty when dumont:bucketScopedKey is off). */
export const bucketKey = pulumi.secret(env.bucket.scopedKey);
export const sshPublicKey = env.sshPublicKey;
export const sshPrivateKey = env.sshPrivateKey;
