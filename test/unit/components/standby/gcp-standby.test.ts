// The GCP standby's scheduling: a Spot VM as GCP requires one to be declared.
import { describe, expect, it } from "vitest";
import { spotScheduling } from "../../../../components/standby/gcp-standby.ts";

describe("spot scheduling", () => {
  it("follows GCP's rule for SPOT: preemptible, no automatic restart, a termination action", () => {
    expect(spotScheduling(true)).toEqual({ provisioningModel: "SPOT", preemptible: true, automaticRestart: false, onHostMaintenance: "TERMINATE", instanceTerminationAction: "STOP" });
    expect(spotScheduling(false).provisioningModel).toBe("STANDARD");
  });
});
