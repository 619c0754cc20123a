// setup/setup.sh on machines that lack something: it must say exactly what is missing and how to
// provide it, exit non-zero, and never leave a half-built tool that a later run would trust.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../lib/tools/paths.ts";
import { pinnedVersions } from "../../lib/tools/versions.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "dumont-setup-"));
chmodSync(scratch, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A bin folder with links to everything in /usr/bin except the named commands. */
function binWithout(name: string, ...excluded: string[]): string {
  const dir = path.join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync("/usr/bin")) {
    if (!excluded.includes(entry)) symlinkSync(path.join("/usr/bin", entry), path.join(dir, entry));
  }
  // The project's own node, as npm scripts would put first.
  symlinkSync(path.join(repoRoot, "node_modules", ".bin", "node"), path.join(dir, "node-project"));
  return dir;
}

function runSetup(env: Record<string, string>, asUser?: number) {
  const command = asUser === undefined ? ["bash", "setup/setup.sh"] : ["setpriv", `--reuid=${asUser}`, `--regid=${asUser}`, "--clear-groups", "bash", "setup/setup.sh"];
  const result = spawnSync(command[0]!, command.slice(1), { cwd: repoRoot, env: { HOME: scratch, ...env }, encoding: "utf8", timeout: 120_000 });
  return { status: result.status, stderr: result.stderr };
}

function emptyToolsDir(name: string): string {
  const dir = path.join(scratch, name);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  return dir;
}

describe("setup on a machine that lacks something", () => {
  it("without root and with a Debian package missing, names the package and the apt-get command", () => {
    const bin = binWithout("no-rsync", "rsync");
    const result = runSetup({ PATH: bin, DUMONT_TOOLS_DIR: emptyToolsDir("tools-no-root") }, 65534);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("missing Debian packages: rsync");
    expect(result.stderr).toContain("sudo apt-get update && sudo apt-get install -y rsync");
  });

  it("without Go, says which tool needs it and how to get Go, and builds nothing", () => {
    const tools = emptyToolsDir("tools-no-go");
    const bin = binWithout("no-go", "go", "pulumi");
    const result = runSetup({ PATH: bin, DUMONT_TOOLS_DIR: tools });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`Go ${pinnedVersions().GO_MIN_VERSION} or newer is needed to build pulumi-${pinnedVersions().PULUMI_VERSION}`);
    expect(result.stderr).toContain("https://go.dev/dl");
    expect(readdirSync(tools)).toEqual([]);
  });

  it("when a build fails halfway, reports it and leaves no tool folder for the next run to trust", () => {
    const tools = emptyToolsDir("tools-failing-build");
    const bin = binWithout("failing-go", "go", "pulumi");
    // A Go that reports a good version but dies mid-build after writing a partial binary.
    writeFileSync(
      path.join(bin, "go"),
      `#!/bin/sh\ncase "$1" in env) echo go${pinnedVersions().GO_MIN_VERSION} ;; build) mkdir -p bin; echo partial > bin/pulumi; exit 1 ;; *) exit 0 ;; esac\n`,
      { mode: 0o755 },
    );
    const result = runSetup({ PATH: bin, DUMONT_TOOLS_DIR: tools });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`building pulumi-${pinnedVersions().PULUMI_VERSION} failed`);
    // Only the build log may remain; no folder a later run would take as an installed tool.
    expect(readdirSync(tools).filter((f) => !f.endsWith(".log"))).toEqual([]);
  });

  it("when a build 'succeeds' without producing its binaries, still installs nothing", () => {
    const tools = emptyToolsDir("tools-empty-build");
    const bin = binWithout("silent-go", "go", "pulumi");
    writeFileSync(path.join(bin, "go"), `#!/bin/sh\ncase "$1" in env) echo go${pinnedVersions().GO_MIN_VERSION} ;; *) exit 0 ;; esac\n`, { mode: 0o755 });
    const result = runSetup({ PATH: bin, DUMONT_TOOLS_DIR: tools });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("missing product: bin/pulumi");
    expect(readdirSync(tools).filter((f) => !f.endsWith(".log"))).toEqual([]);
  });
});
