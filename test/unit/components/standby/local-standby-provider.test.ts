// The local standby host is a dynamic resource: its provider must serialize as `pulumi up` does it.
import { describe, it } from "vitest";
import { expectRegistersUnderMocks } from "../../../support/dynamic-providers.ts";

const { LocalStandbyHost } = await import("../../../../components/standby/local-standby-provider.ts");

describe("every dynamic resource type serializes", () => {
  it("LocalStandbyHost", async () => {
    await expectRegistersUnderMocks(LocalStandbyHost);
  });
});
