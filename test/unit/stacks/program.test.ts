// The program's exports are the stack's outputs as contract/stack-outputs.ts declares them (what
// every operation reads back), made from the environment's parts (Pulumi mocks).
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { readStackOutputs, stackOutputNames } from "../../../contract/stack-outputs.ts";
import { recordRegistrations, settle, valueOf } from "../../support/pulumi-mocks.ts";

let exported: Record<string, unknown>;

beforeAll(async () => {
  await recordRegistrations({ cloud: "local", autoStandbyEnabled: "true", diskGb: "40" }, "unit-program");
  const program: Record<string, unknown> = await import("../../../stacks/program.ts");
  exported = {};
  for (const [name, value] of Object.entries(program)) exported[name] = await valueOf(pulumi.output(value));
  await settle();
});

describe("the program's exports", () => {
  it("are the declared stack outputs, each as Dumont reads them back", () => {
    expect(Object.keys(exported).sort()).toEqual([...stackOutputNames].sort());
    expect(readStackOutputs(exported).problems).toEqual([]);
  });

  it("give the active slot's GPU from its instance, and no GPU to the other slot", () => {
    expect(exported.activeSlot).toBe("a");
    expect(exported.slots).toEqual({
      a: {
        instanceId: 29_000_001, host: "10.0.0.2", port: 22022, hostKey: "ssh-ed25519 AAAAhost", machineId: 7, gpuName: "RTX 4090",
        dphTotal: 0.3, dphBase: 0.29, storageCostPerGbMonth: 0.15, inetUpCostPerGb: 0.02, inetDownCostPerGb: 0.01, diskGb: 40,
      },
      b: null,
    });
  });

  it("give the standby and the bucket from their components", () => {
    expect(exported.standby).toEqual({ host: "10.0.0.3", port: 22023, user: "root", hostKey: "ssh-ed25519 AAAAstandby" });
    expect(exported.bucket).toEqual({ name: "dumont-unit-program", endpoint: "http://s3.mock", region: "us-east-1", prefix: "snapshots/unit-program/", keyId: "" });
  });
});
