// Who you are on each cloud, as environment variables: the only variables a failover or watch
// update reads from the environment (program-settings.ts), and what a watch service carries in its
// protected environment file (service/systemd-unit.ts). The settings declared as credentials.
import { declarations, settingKeys, type Declaration } from "../contract/settings-schema.ts";

export const credentialVariables: ReadonlySet<string> = new Set(
  settingKeys.map((key) => declarations[key] as Declaration).flatMap((d) => (d.credential && d.env ? [d.env] : [])),
);
