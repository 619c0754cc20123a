// The environment every tool runs in: the project's tools first, the engine offline, and exports
// that survive the shell.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { exportLines, shellQuote, toolEnvironment } from "../../../../lib/tools/environment.ts";
import { toolsDir } from "../../../../lib/tools/paths.ts";

describe("toolEnvironment", () => {
  it("puts the project's tools first and keeps the rest of PATH in order, once", () => {
    const env = toolEnvironment({ base: { PATH: `/usr/bin:${toolsDir}/bin:/bin` } });
    const parts = env.PATH!.split(":");
    expect(parts[0]).toBe(`${toolsDir}/bin`);
    expect(parts.slice(2)).toEqual(["/usr/bin", "/bin"]);
  });

  it("keeps the engine offline and uses the project's backend and passphrase file by default", () => {
    const env = toolEnvironment({ base: { PATH: "/bin" } });
    expect(env.PULUMI_SKIP_UPDATE_CHECK).toBe("true");
    expect(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).toBe("true");
    expect(env.PULUMI_BACKEND_URL).toMatch(/^file:\/\/.*\.state\/pulumi$/);
    expect(env.PULUMI_CONFIG_PASSPHRASE_FILE).toMatch(/\.state\/pulumi-passphrase$/);
  });

  it("respects a backend and a passphrase the user already chose", () => {
    const env = toolEnvironment({ base: { PATH: "/bin", PULUMI_BACKEND_URL: "s3://state", PULUMI_CONFIG_PASSPHRASE: "x" } });
    expect(env.PULUMI_BACKEND_URL).toBe("s3://state");
    expect(env).not.toHaveProperty("PULUMI_CONFIG_PASSPHRASE_FILE");
    expect(env).not.toHaveProperty("PULUMI_CONFIG_PASSPHRASE");
  });
});

describe("exportLines", () => {
  it("survives a shell round trip for values with spaces, quotes and dollars", () => {
    const tricky = { A: "plain", B: "with space", C: "it's $HOME and \"quotes\"" };
    const script = `${exportLines(tricky)}\nprintf '%s\\n' "$A" "$B" "$C"`;
    const printed = execFileSync("bash", ["-c", script], { encoding: "utf8" });
    expect(printed).toBe("plain\nwith space\nit's $HOME and \"quotes\"\n");
  });

  it("leaves simple values unquoted", () => {
    expect(shellQuote("/a/b:c")).toBe("/a/b:c");
    expect(shellQuote("")).toBe("''");
  });
});
