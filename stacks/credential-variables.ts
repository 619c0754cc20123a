// Who you are on each cloud, as environment variables: the only variables a failover or watch
// update reads from the environment (program-settings.ts), and what a watch service carries in its
// protected environment file (service/systemd-unit.ts).
export const credentialVariables: ReadonlySet<string> = new Set(["VAST_API_KEY", "B2_KEY_ID", "B2_APPLICATION_KEY", "GCP_CREDENTIALS", "GCP_PROJECT", "DUMONT_LOCAL_CLOUD"]);
