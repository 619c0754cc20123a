// The SSH key pair is a dynamic resource: its provider must serialize as `pulumi up` does it.
import { describe, it } from "vitest";
import { expectRegistersUnderMocks } from "../../../support/dynamic-providers.ts";

const { SshKeyPair } = await import("../../../../components/ssh-key/key-pair.ts");

describe("every dynamic resource type serializes", () => {
  it("SshKeyPair", async () => {
    await expectRegistersUnderMocks(SshKeyPair);
  });
});
