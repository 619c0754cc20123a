// An operation reads a stack's outputs through their declaration (contract/stack-outputs.ts): an
// output that is not as Dumont writes it stops the operation in one line that names the stack and
// the output; an operation that works without an environment (`up`) gets the outputs it can read.
import { describe, expect, it } from "vitest";
import type { StackOutputs } from "../../../contract/stack-outputs.ts";
import { UserError } from "../../../lib/errors.ts";
import type { Settings } from "../../../stacks/settings.ts";
import type { SlotRecord } from "../../../stacks/slot-record.ts";
import { StackContext, stackOutputsOf, withRecordedChanges } from "../../../stacks/stack-context.ts";

const gpu = {
  instanceId: 29_000_001, host: "10.0.0.2", port: 22022, hostKey: "ssh-ed25519 AAAAhost", machineId: 7, gpuName: "RTX 4090",
  dphTotal: 0.3, dphBase: 0.29, storageCostPerGbMonth: 0.15, inetUpCostPerGb: 0.02, inetDownCostPerGb: 0.01, diskGb: 32,
};
const written: StackOutputs = {
  cloud: "local", localCloud: "dev", activeSlot: "b", provisionedSlots: ["b"], slots: { a: null, b: gpu }, standby: null,
  bucket: { name: "dumont-unit", endpoint: "http://s3.local", region: "us-east-1", prefix: "snapshots/unit/", keyId: "" },
  bucketKey: "", sshPublicKey: "ssh-ed25519 AAAAkey unit", sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nunit\n",
};
const { keyId: _keyId, ...olderBucket } = written.bucket;
const older = { ...written, bucket: olderBucket };

function thrown(work: () => unknown): UserError {
  try {
    work();
  } catch (error) {
    return error as UserError;
  }
  throw new Error("it did not throw");
}

describe("a stack's outputs, read for an operation", () => {
  it("are the outputs as Dumont wrote them", () => {
    expect(stackOutputsOf("unit", written)).toEqual(written);
  });

  it("stop it in one line naming the stack and the output when they are not as Dumont writes them", () => {
    const error = thrown(() => stackOutputsOf("unit", older));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe("stack unit: output bucket.keyId is missing, so its outputs are not as this version of Dumont writes them");
    expect(error.message).not.toContain("\n");
    expect(error.hint).toBe("`npx dumont up --stack unit` writes the stack's outputs again");
  });

  it("count the other outputs that are not as Dumont writes them", () => {
    const { sshPrivateKey: _key, ...withoutKey } = older;
    expect(thrown(() => stackOutputsOf("unit", withoutKey)).message).toMatch(/^stack unit: output bucket\.keyId is missing \(and 1 more\), /);
  });

  it("without an environment required, are the ones it can read, with no slots, standby or bucket for the rest", () => {
    const outputs = stackOutputsOf("unit", older, { requireOutputs: false });
    expect(outputs).toMatchObject({ activeSlot: "b", slots: { a: null, b: gpu }, standby: null, bucketKey: "" });
    expect(outputs.bucket).toBeUndefined();
    expect(stackOutputsOf("unit", {}, { requireOutputs: false })).toEqual({ provisionedSlots: [], slots: { a: null, b: null }, standby: null, bucketKey: "" });
  });
});

describe("a slot of the stack", () => {
  const ctx = new StackContext("unit", {} as Settings, { config: () => undefined, env: () => undefined }, written);

  it("is the active one unless one is named, by slot or by instance", () => {
    expect(ctx.slot()).toEqual({ slot: "b", state: gpu });
    expect(ctx.slot({ instance: String(gpu.instanceId) }).slot).toBe("b");
  });

  it("is a or b, and has a GPU", () => {
    expect(() => ctx.slot({ slot: "c" })).toThrow("--slot: 'c' is not a slot; slots are a and b");
    expect(() => ctx.slot({ slot: "a" })).toThrow("--slot: slot a of stack unit has no GPU");
  });
});

describe("the outputs with what a failover recorded ahead of the next update", () => {
  const rented = {
    instanceId: 29_000_002, vastLabel: "dumont-unit-a.0f3c9a1b", offerId: 4, machineId: 8, gpuName: "RTX 3090", numGpus: 1, location: "US",
    reliability: 0.99, sshHost: "10.0.0.3", sshPort: 22023, sshPath: "direct" as const, publicIp: "10.0.0.3", hostKey: "ssh-ed25519 AAAAnew",
    dphBase: 0.2, dphTotal: 0.21, storageCostPerGbMonth: 0.15, inetUpCostPerGb: 0.02, inetDownCostPerGb: 0.01, status: "running",
    rentRequestedAt: "2026-11-30T19:00:00.000Z", runningAt: "2026-11-30T19:00:03.000Z", sshReadyAt: "2026-11-30T19:00:04.000Z",
  };
  const record = (change: Partial<SlotRecord>): SlotRecord => ({
    format: "dumont-slots/1", activeSlot: "b", slots: ["a", "b"], excludeMachineIds: [], updatedAt: "2026-11-30T19:00:05.000Z",
    adopted: { slot: "a", instance: rented, diskGb: 32 }, ...change,
  });

  it("a GPU a failover rented is its slot's, with the slot's fields, until the state holds one", () => {
    const outputs = withRecordedChanges(written, record({}));
    expect(outputs.slots.a).toEqual({
      instanceId: 29_000_002, host: "10.0.0.3", port: 22023, hostKey: "ssh-ed25519 AAAAnew", machineId: 8, gpuName: "RTX 3090",
      dphTotal: 0.21, dphBase: 0.2, storageCostPerGbMonth: 0.15, inetUpCostPerGb: 0.02, inetDownCostPerGb: 0.01, diskGb: 32,
      rentRequestedAt: "2026-11-30T19:00:00.000Z", runningAt: "2026-11-30T19:00:03.000Z", sshReadyAt: "2026-11-30T19:00:04.000Z",
    });
    expect(outputs.provisionedSlots).toEqual(["a", "b"]);
    expect(outputs.activeSlot).toBe("b");
  });

  it("the slot a swap made active is the active one once it has a GPU", () => {
    expect(withRecordedChanges(written, record({ activeSlot: "a" })).activeSlot).toBe("a");
    expect(withRecordedChanges(written, record({ activeSlot: "a", adopted: undefined })).activeSlot).toBe("b");
  });

  it("the state's GPU wins over the record's, and a slot the record dropped takes no rented GPU", () => {
    const held = { ...written, slots: { a: gpu, b: gpu }, provisionedSlots: ["a", "b"] as const };
    expect(withRecordedChanges(held, record({})).slots.a).toBe(gpu);
    expect(withRecordedChanges(written, record({ slots: ["b"] })).slots.a).toBeNull();
  });
});
