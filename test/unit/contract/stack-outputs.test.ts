// A stack's outputs are read through their declaration: what the program writes parses as it is,
// and anything else is named, output by output, without ever showing a value (some are secrets).
import { describe, expect, it } from "vitest";
import { readStackOutputs, stackOutputNames, type SlotOutputs, type StackOutputs } from "../../../contract/stack-outputs.ts";
import type { VastRates } from "../../../clouds/cost/model.ts";

const gpu: SlotOutputs = {
  instanceId: 29_000_001, host: "10.0.0.2", port: 22022, hostKey: "ssh-ed25519 AAAAhost", machineId: 7, gpuName: "RTX 4090",
  dphTotal: 0.3, dphBase: 0.29, storageCostPerGbMonth: 0.15, inetUpCostPerGb: 0.02, inetDownCostPerGb: 0.01, diskGb: 32,
};

const written: StackOutputs = {
  cloud: "local", localCloud: "dev", activeSlot: "a", provisionedSlots: ["a"], slots: { a: gpu, b: null },
  standby: { host: "10.0.0.3", port: 22, user: "dumont", hostKey: "ssh-ed25519 AAAAstandby" },
  bucket: { name: "dumont-unit", endpoint: "http://s3.local", region: "us-east-1", prefix: "snapshots/unit/", keyId: "" },
  bucketKey: "", sshPublicKey: "ssh-ed25519 AAAAkey unit", sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nunit\n",
};

/** The outputs as written, with one changed by `change` (a copy: `written` stays as it is). */
function changed(change: (outputs: any) => void): Record<string, unknown> {
  const outputs = structuredClone(written);
  change(outputs);
  return outputs;
}

describe("a stack's outputs", () => {
  it("are read as the program writes them", () => {
    expect(readStackOutputs(written)).toEqual({ outputs: written, problems: [] });
  });

  it("may hold outputs Dumont does not read, which are left out", () => {
    expect(readStackOutputs({ ...written, md5: "abc" }).outputs).toEqual(written);
  });

  it("may have no GPU in either slot and no standby", () => {
    expect(readStackOutputs(changed((o) => { o.slots = { a: null, b: null }; o.standby = null; })).problems).toEqual([]);
  });

  it.each([
    ["a slot's field is missing", (o: any) => delete o.slots.a.hostKey, "output slots.a.hostKey is missing"],
    ["a slot is missing", (o: any) => delete o.slots.b, "output slots.b is missing"],
    ["a number is text", (o: any) => (o.slots.a.port = "22022"), "output slots.a.port is text, not a number"],
    ["a whole number is a fraction", (o: any) => (o.slots.a.diskGb = 32.5), "output slots.a.diskGb is a fraction, not a whole number"],
    ["a slot is not a or b", (o: any) => (o.activeSlot = "c"), "output activeSlot is not 'a' or 'b'"],
    ["a listed slot is not a or b", (o: any) => (o.provisionedSlots = ["a", "c"]), "output provisionedSlots[1] is not 'a' or 'b'"],
    ["the standby is not a map", (o: any) => (o.standby = "10.0.0.3"), "output standby is text, not a map"],
    ["the bucket lacks its key id (an older Dumont's stack)", (o: any) => delete o.bucket.keyId, "output bucket.keyId is missing"],
    ["an output is missing", (o: any) => delete o.bucketKey, "output bucketKey is missing"],
  ])("name the output when %s", (_case, change, problem) => {
    expect(readStackOutputs(changed(change)).problems).toEqual([problem]);
  });

  it("never show a value, only its kind", () => {
    const { problems } = readStackOutputs(changed((o) => (o.sshPrivateKey = { key: o.sshPrivateKey })));
    expect(problems).toEqual(["output sshPrivateKey is a map, not text"]);
    expect(problems.join("\n")).not.toContain("PRIVATE KEY");
  });

  it("keep each output that is as Dumont writes it when another is not", () => {
    const { outputs, problems } = readStackOutputs(changed((o) => { delete o.slots.a.hostKey; delete o.sshPublicKey; }));
    expect(problems).toEqual(["output slots.a.hostKey is missing", "output sshPublicKey is missing"]);
    expect(outputs).toEqual({ ...written, slots: undefined, sshPublicKey: undefined });
    expect(Object.keys(outputs).sort()).toEqual(stackOutputNames.filter((n) => n !== "slots" && n !== "sshPublicKey").sort());
  });

  it("of a stack with no environment are all missing", () => {
    expect(readStackOutputs({}).problems).toEqual(stackOutputNames.map((name) => `output ${name} is missing`));
  });

  it("give each slot the rates the cost model prices", () => {
    // Checked by the type checker: a slot's outputs are the cost model's VastRates.
    const rates: VastRates = gpu;
    expect(rates.diskGb).toBe(32);
  });
});
