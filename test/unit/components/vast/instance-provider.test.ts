// The Vast instance's dynamic provider serializes as Pulumi runs it: small, no client, no secret.
import { describe, it } from "vitest";
import { expectSmallSerializedProvider } from "../../../support/dynamic-providers.ts";

const { vastInstanceProvider } = await import("../../../../components/vast/instance-provider.ts");

describe("the vastInstance provider", () => {
  it("serializes to a small text that holds module paths, not clients or secrets", async () => {
    await expectSmallSerializedProvider(vastInstanceProvider);
  });
});
