import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { envFile, hostInitScript, hostStartScript, sshdConfig } from "../../../local-cloud/host-files.ts";

describe("host files", () => {
  it("sshd allows keys only, from Vast's key set and the host's own file", () => {
    expect(sshdConfig(22022)).toMatchSnapshot();
  });

  it("init builds the host's own root from its image (overlay, /workspace, /root, /tmp, /proc, a minimal /dev) and leaves the controller's filesystem", () => {
    expect(hostInitScript()).toMatchSnapshot();
    // The pivot and the detaching are host-init's (a binary of the controller's), and the script's
    // last command: nothing of the host's runs while the controller's filesystem is mounted.
    const last = hostInitScript().trim().split("\n").at(-1)!;
    expect(last).toMatch(/^exec "\$host_init" -keep [a-z_,]+ "\$start"$/);
    expect(last).toContain("setuid");
    expect(last).not.toMatch(/sys_admin|dac_read_search|mknod|net_raw|sys_ptrace/);
    expect(hostInitScript()).not.toMatch(/pivot_root|setpriv|\/usr\/bin\/env/);
    expect(hostInitScript()).not.toMatch(/--rbind \/dev/);
    // Both scripts parse as POSIX sh.
    execFileSync("sh", ["-n", "-c", hostInitScript()]);
    execFileSync("sh", ["-n", "-c", hostStartScript()]);
  });

  it("env lines survive the shell, and docker flags that Vast puts in env are not variables", () => {
    const file = envFile({ TOKEN: "it's a \"secret\" $HOME", "-p 8080:8080": "1", PLAIN: "x" });
    expect(file).not.toContain("8080");
    const printed = execFileSync("sh", ["-c", `set -a; ${file.replaceAll("\n", "; ")} printf '%s|%s' "$TOKEN" "$PLAIN"`], { encoding: "utf8" });
    expect(printed).toBe("it's a \"secret\" $HOME|x");
  });
});
