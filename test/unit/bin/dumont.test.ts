// The dumont process itself: a bad option ends it with one line and exit status 2, --help with the
// help on stdout and 0. Parsing fails before anything connects, so no cloud is needed.
import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { dumontNodeEnvironmentWords, dumontNodeFlags } from "../../../lib/tools/node-flags.ts";
import { repoRoot } from "../../../lib/tools/paths.ts";
import { expectRefused, type Ran } from "../../support/refused-command-line.ts";

describe("the dumont process", () => {
  function dumont(args: readonly string[], nodeOptions: readonly string[] = []): Promise<Ran> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [...dumontNodeFlags, ...nodeOptions, path.join(repoRoot, "bin", "dumont.ts"), ...args], { cwd: repoRoot });
      let out = "", err = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (err += d));
      child.on("close", (code) => resolve({ code, out, err }));
    });
  }

  // One command of each kind (stack, host, bucket, local cloud, a group's and a lone one): every
  // command's parsing is the same code, checked above in this process.
  it("runs with the Node flags and environment every other launcher of it gives (lib/tools/node-flags.ts)", () => {
    const launch = `${dumontNodeEnvironmentWords.join(" ")} node ${dumontNodeFlags.join(" ")}`;
    const shebang = readFileSync(path.join(repoRoot, "bin", "dumont.ts"), "utf8").split("\n")[0];
    expect(shebang).toBe(`#!/usr/bin/env -S ${launch}`);
    // Linux before 5.1 cuts an interpreter line at 127 characters, silently.
    expect(shebang!.length).toBeLessThanOrEqual(127);
    const scripts = (JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    const launchers = Object.entries(scripts).filter(([, script]) => script.includes("bin/dumont.ts"));
    expect(launchers.map(([name]) => name).sort()).toEqual(["dumont", "journey", "smoke"]);
    for (const [, script] of launchers) expect(script).toContain(`${launch} bin/dumont.ts`);
  });

  it("a bad option: one line, exit 2", async () => {
    const cases = [["snapshot", "create"], ["ssh"], ["local-cloud", "fault"], ["journey"]];
    const ran = await Promise.all(cases.map((words) => dumont([...words, "--bogus"])));
    ran.forEach((r, i) => expectRefused(r, new RegExp(`^dumont: ${cases[i]!.join(" ")}: unknown option --bogus$`)));
  });

  it("--help: exit 0, on stdout", async () => {
    const ran = await dumont(["instance", "destroy", "--help"]);
    expect(ran.code).toBe(0);
    expect(ran.err).toBe("");
    expect(ran.out).toMatch(/^dumont instance destroy: /);
    expect(ran.out).toContain("--pattern PATTERN");
  });

  // `dumont --help` and a mistyped option answer at once: no command's code (Pulumi, ssh2, the AWS
  // SDK, zx) is loaded until that command runs. How fast is `npm run bench`'s to say (cli figures).
  it("--help and a usage error load none of the packages the commands use", async () => {
    const traced = (args: readonly string[]) => dumont(args, ["--import", path.join(repoRoot, "test", "support", "module-trace-hook.ts")]);
    const heavy = ["@pulumi/pulumi", "@pulumi/command", "@pulumi/gcp", "@aws-sdk/client-s3", "ssh2", "zx", "proper-lockfile"];
    for (const args of [["--help"], ["snapshot", "list", "--bogus"], ["failover", "--help"]]) {
      const ran = await traced(args);
      const line = /^loaded-packages (.*)$/m.exec(ran.err);
      expect(line, `${args.join(" ")}: ${ran.err}`).not.toBeNull();
      const loaded: string[] = JSON.parse(line![1]!);
      expect(loaded.filter((p) => heavy.includes(p)), args.join(" ")).toEqual([]);
    }
  });
});
