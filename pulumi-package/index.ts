// The entry point of Dumont's component package (PulumiPlugin.yaml): the engine starts it when a
// program in another language declares `dumont:Environment`, and it serves the component's schema
// (read from environment.ts's types) and its construction.
import { componentProviderHost } from "@pulumi/pulumi/provider/experimental/index.js";
import { Environment } from "./environment.ts";

export { Environment } from "./environment.ts";

/** The package's name: resource types are `dumont:index:<Component>` (`dumont:Environment` in YAML). */
export const packageName = "dumont";

if (import.meta.main) {
  await componentProviderHost({ name: packageName, components: [Environment], dirname: import.meta.dirname });
}
