// The watch service: a unit that names no secret, an environment file with only what the watch
// needs, and names and quoting systemd accepts.
import { describe, expect, it } from "vitest";
import { serviceEnvironment, serviceName, systemdUnit } from "../../../../stacks/service/systemd-unit.ts";

describe("watch service", () => {
  it("names the unit after its stacks", () => {
    expect(serviceName(["prod-*"])).toBe("dumont-watch-prod-all");
    expect(serviceName(["a b", "c/d"])).toBe("dumont-watch-a-b-c-d");
  });

  it("runs the watch with restart and SIGTERM, and reads its environment from the file", () => {
    const unit = systemdUnit({ name: "dumont-watch-prod", stacks: ["prod-*", "staging"], node: "/usr/bin/node", dumontScript: "/srv/my dumont/bin/dumont.ts", workingDirectory: "/srv/my dumont", environmentFile: "/srv/state/service/dumont-watch-prod.env" });
    expect(unit).toContain("Environment=MALLOC_MMAP_THRESHOLD_=131072\n");
    expect(unit).toContain('ExecStart=/usr/bin/node --disable-warning=ExperimentalWarning --max-semi-space-size=8 --expose-gc "/srv/my dumont/bin/dumont.ts" watch --stacks "prod-*,staging"');
    expect(unit).toContain("EnvironmentFile=/srv/state/service/dumont-watch-prod.env");
    expect(unit).toMatch(/Restart=always/);
    expect(unit).toMatch(/KillSignal=SIGTERM/);
  });

  it("keeps the backend, passphrase file and credentials, and nothing else", () => {
    const file = serviceEnvironment({ PULUMI_BACKEND_URL: "s3://b?endpoint=x", PULUMI_CONFIG_PASSPHRASE_FILE: "/p", VAST_API_KEY: "k", HOME: "/root", GCP_CREDENTIALS: '{"a": "b"}\n' });
    expect(file).toBe("PULUMI_BACKEND_URL='s3://b?endpoint=x'\nPULUMI_CONFIG_PASSPHRASE_FILE='/p'\nVAST_API_KEY='k'\nGCP_CREDENTIALS='{\"a\": \"b\"}\n'\n");
    expect(() => serviceEnvironment({ VAST_API_KEY: "it's" })).toThrow(/VAST_API_KEY: holds a single quote/);
  });
});
