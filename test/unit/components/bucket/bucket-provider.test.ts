// The snapshot bucket's dynamic provider serializes as Pulumi runs it: small, no client, no secret.
import { describe, it } from "vitest";
import { expectSmallSerializedProvider } from "../../../support/dynamic-providers.ts";

const { snapshotBucketProvider } = await import("../../../../components/bucket/bucket-provider.ts");

describe("the snapshotBucket provider", () => {
  it("serializes to a small text that holds module paths, not clients or secrets", async () => {
    await expectSmallSerializedProvider(snapshotBucketProvider);
  });
});
