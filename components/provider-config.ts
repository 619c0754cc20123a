// What every Dumont dynamic provider does with the stack's config: keep it from `configure`, and
// turn it into an access source (cloud-access.ts) when a method needs credentials. Providers
// capture these small functions and the module path below, never a credential or a client.
import type * as pulumi from "@pulumi/pulumi";

const accessModule = new URL("../clouds/cloud-access.ts", import.meta.url).pathname;

export interface ConfiguredProvider {
  config?: { get(key: string): string | undefined };
}

/** The `configure` of every Dumont provider: keep the config for later calls. */
export async function keepConfig(this: ConfiguredProvider, req: pulumi.dynamic.ConfigureRequest): Promise<void> {
  this.config = req.config;
}

export async function accessSource(provider: ConfiguredProvider) {
  const { processAccessSource } = await import(accessModule);
  return processAccessSource((key: string) => provider.config?.get(`dumont:${key}`));
}

/** Whether the resource vanished with its local cloud (see cloud-access.ts: localCloudIsDown). */
export async function goneWithLocalCloud(provider: ConfiguredProvider): Promise<boolean> {
  const { localCloudIsDown } = await import(accessModule);
  return localCloudIsDown(await accessSource(provider));
}

/** The cloud-access module itself, for the resolver a provider needs (vastAccess, objectStoreAccess …). */
export async function cloudAccess(): Promise<typeof import("../clouds/cloud-access.ts")> {
  return import(accessModule);
}
