// Pulumi runs each dynamic provider from its serialized text. A provider that captured a client, a
// credential or a large module would fail only at `pulumi up` (or leak the secret into state):
// these checks, run by each provider's unit test, fail CI instead.
import * as pulumi from "@pulumi/pulumi";
import { expect } from "vitest";

/** The provider serializes to a small text that holds module paths, not clients or secrets. */
export async function expectSmallSerializedProvider(provider: unknown): Promise<void> {
  const serialized = await pulumi.runtime.serializeFunction(() => provider, { isFactoryFunction: true });
  const text = serialized.text;
  expect(text.length).toBeLessThan(20_000);
  for (const forbidden of ["S3Client", "VastClient", "apiKey:", "secretAccessKey:", "BEGIN OPENSSH PRIVATE KEY", "__vite"]) {
    expect(text).not.toContain(forbidden);
  }
  expect(text).toMatch(/cloud-access\.ts/);
}

/** Registering a dynamic resource under mocks serializes its provider exactly as `pulumi up` does. */
export async function expectRegistersUnderMocks(resourceClass: unknown): Promise<void> {
  expect(typeof resourceClass).toBe("function");
  await pulumi.runtime.setMocks({ newResource: (a) => ({ id: "x", state: a.inputs }), call: (a) => a.inputs }, "dumont", "unit", false);
  const Resource = resourceClass as new (name: string, args: Record<string, string>) => pulumi.Resource;
  const resource = new Resource("r", { comment: "c", name: "n", sshPublicKey: "ssh-ed25519 AAAA" });
  await new Promise((resolve) => resource.urn.apply(resolve));
}
