// The Vast provider's `check`: inputs that are settings are held to the settings' own rules
// (contract/settings-schema.ts), so what `dumont up` accepts the provider accepts too; inputs not known
// yet in a preview are checked when they are.
import { unknownValue } from "@pulumi/pulumi/runtime/rpc.js";
import { describe, expect, it } from "vitest";
import { checkInstanceInputs, type VastInstanceInputs } from "../../../../components/vast/instance-operations.ts";
import { settingDefaults } from "../../../../contract/settings-schema.ts";

const inputs: VastInstanceInputs = {
  gpuNames: ["RTX 4090"], gpuCount: 1, diskGb: 32, maxPricePerHour: 1, minReliability: 0.95, verifiedOnly: true, datacenterOnly: false, rentType: "on-demand", bidMargin: 0.25,
  geolocation: [], directSsh: true, excludeMachineIds: [], image: settingDefaults.image, onstart: "", env: {}, label: "dumont-dev-a",
  sshPublicKey: "ssh-ed25519 AAAAC3Nza unit", readyTimeoutSeconds: 600, pollIntervalSeconds: 5,
};

describe("checkInstanceInputs", () => {
  it("accepts an instance as the settings' defaults make it", () => {
    expect(checkInstanceInputs(inputs)).toEqual([]);
  });

  it.each<[string, Partial<Record<keyof VastInstanceInputs, unknown>>, string, RegExp]>([
    ["an untagged image, as the settings refuse it", { image: "pytorch/pytorch" }, "image", /'pytorch\/pytorch' is not an image with a tag/],
    ["an image whose name is not one", { image: "-bad:tag" }, "image", /is not an image with a tag/],
    ["an onstart Vast would refuse", { onstart: "x".repeat(3401) }, "onstart", /is 3401 characters; at most 3400 \(Vast accepts 4048/],
    ["an environment that is not a map of text", { env: { A: 1 } }, "env", /1 is not text/],
    ["a timeout outside the settings' range", { readyTimeoutSeconds: 5 }, "readyTimeoutSeconds", /5 is outside 10…7200/],
    ["more GPUs than the settings allow", { gpuCount: 17 }, "gpuCount", /17 is outside 1…16/],
    ["no label", { label: "" }, "label", /1-200 characters/],
    ["a public key that is not one", { sshPublicKey: "not a key" }, "sshPublicKey", /OpenSSH public key/],
  ])("refuses %s", (_, overrides, property, reason) => {
    const failures = checkInstanceInputs({ ...inputs, ...overrides });
    expect(failures.map((f) => f.property)).toEqual([property]);
    expect(failures[0]!.reason).toMatch(reason);
  });

  it("checks only what is known: an input still unknown in a preview, or absent, is not a failure", () => {
    expect(checkInstanceInputs({ ...inputs, sshPublicKey: unknownValue, image: unknownValue })).toEqual([]);
    expect(checkInstanceInputs({ gpuCount: 2 })).toEqual([]);
  });
});
