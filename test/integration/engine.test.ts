// The foundation's promise: the real Pulumi engine, built here, runs a stack with a dynamic
// provider and a @pulumi/command resource through the Automation API, and cleans up after itself.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { runSmoke } from "../../stacks/smoke.ts";
import { pinnedVersions } from "../../lib/tools/versions.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "dumont-engine-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the Pulumi engine", () => {
  it("is the pinned version", () => {
    const printed = execFileSync("pulumi", ["version"], { encoding: "utf8" }).trim();
    expect(printed).toBe(`v${pinnedVersions().PULUMI_VERSION}`);
  });

  it("runs up, a no-change preview and destroy of a dynamic-provider and a command resource", async () => {
    const backendDir = path.join(scratch, "backend");
    const lines: string[] = [];
    const result = await runSmoke({
      stack: "engine-test",
      dir: scratch,
      backendUrl: `file://${backendDir}`,
      log: (line) => lines.push(line),
    });
    // The MD5 came from the command provider running md5sum on the file the dynamic provider wrote.
    expect(result.md5).toMatch(/^[0-9a-f]{32}$/);
    expect(lines.join("\n")).toContain("command:local:Command digest created");
    expect(lines.join("\n")).toContain("dynamic/dumont:smoke:MarkerFile marker created");
    // destroy removed the file, and the stack is gone from the backend.
    expect(existsSync(path.join(scratch, "engine-test.marker"))).toBe(false);
    const stacksDir = path.join(backendDir, ".pulumi", "stacks", "dumont-smoke");
    const remaining = existsSync(stacksDir) ? readdirSync(stacksDir).filter((f) => f.endsWith(".json")) : [];
    expect(remaining).toEqual([]);
  });
});
