// Pulumi runs each dynamic provider from its serialized text. A provider that captured a client, a
// credential or a large module would fail only at `pulumi up` (or leak the secret into state):
// this fails CI instead.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";

const providers = {
  vastInstance: (await import("../../../components/vast/instance-provider.ts")).vastInstanceProvider,
  snapshotBucket: (await import("../../../components/bucket/bucket-provider.ts")).snapshotBucketProvider,
};

describe.each(Object.entries(providers))("the %s provider", (_name, provider) => {
  it("serializes to a small text that holds module paths, not clients or secrets", async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => provider, { isFactoryFunction: true });
    const text = serialized.text;
    expect(text.length).toBeLessThan(20_000);
    for (const forbidden of ["S3Client", "VastClient", "apiKey:", "secretAccessKey:", "BEGIN OPENSSH PRIVATE KEY", "__vite"]) {
      expect(text).not.toContain(forbidden);
    }
    expect(text).toMatch(/cloud-access\.ts/);
  });
});

describe("every dynamic resource type serializes", () => {
  it.each([
    ["../../../components/ssh-key/key-pair.ts", "SshKeyPair"],
    ["../../../components/standby/local-standby-provider.ts", "LocalStandbyHost"],
  ])("%s", async (module, name) => {
    const imported = await import(module);
    expect(typeof imported[name]).toBe("function");
    // Registering one under mocks serializes its provider exactly as `pulumi up` does.
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: "x", state: a.inputs }), call: (a) => a.inputs }, "dumont", "unit", false);
    const resource = new imported[name]("r", { comment: "c", name: "n", sshPublicKey: "ssh-ed25519 AAAA" });
    await new Promise((resolve) => resource.urn.apply(resolve));
  });
});
