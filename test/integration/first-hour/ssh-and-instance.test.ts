// A newcomer's first hour on a local cloud of its own, through the `dumont` command line as they
// type it: `dumont ssh` to the active GPU, a slot, the standby (commands, exit statuses, stdin, a
// shell on a pseudo-terminal), `dumont instance create` for a GPU outside the stack (which the
// stack's orphan sweep leaves alone, and `--pattern` cleanup finds), and the errors they meet on
// the way, each one line with a hint.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isStackLabel } from "../../../components/vast/labels.ts";
import { down, up } from "../../../local-cloud/control.ts";
import type { Endpoints } from "../../../local-cloud/endpoints.ts";
import { repoRoot } from "../../../lib/tools/paths.ts";
import { VastClient } from "../../../clouds/vast/client.ts";
import { stackConfigFile } from "../../../stacks/stack-files.ts";
import { writeStackFile } from "../../../stacks/stack-file.ts";
import { createTestStack, type TestStack } from "../../support/test-stack.ts";

const cloud = "fhr";
const stackName = "it-fh-ssh";
let endpoints: Endpoints;
let vast: VastClient;
let env: TestStack;
let stateDir: string;

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `dumont ARGS` as a person runs it (its own state folder), with `input` on stdin. */
function dumont(args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Ran> {
  return run(process.execPath, ["--disable-warning=ExperimentalWarning", "bin/dumont.ts", ...args], options);
}

function run(command: string, args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const proc = spawn(command, args, { cwd: repoRoot, env: { ...process.env, DUMONT_STATE_DIR: stateDir, ...options.env } });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => (stderr += d));
    proc.on("close", (code) => resolve({ code, stdout, stderr }));
    proc.stdin.end(options.input ?? "");
  });
}

/** What a newcomer must see when something is wrong: one line naming it, one hint, no stack trace. */
function expectOneLineError(ran: Ran, message: RegExp, hint?: RegExp): void {
  const lines = ran.stderr.trimEnd().split("\n");
  expect(lines[0], ran.stderr).toMatch(/^dumont: /);
  expect(lines[0], ran.stderr).toMatch(message);
  expect(lines.length, ran.stderr).toBeLessThanOrEqual(2);
  if (hint) expect(lines[1], ran.stderr).toMatch(hint);
  expect(ran.stderr).not.toMatch(/^\s+at /m);
}

beforeAll(async () => {
  endpoints = await up({ cloud, settings: { loadingDelayMs: 100, runningDelayMs: 200 } });
  vast = new VastClient({ baseUrl: endpoints.vast.url, apiKey: endpoints.vast.apiKey });
  stateDir = mkdtempSync(path.join(tmpdir(), "dumont-first-hour-"));
  env = await createTestStack(stackName, {
    cloud: "local", localCloud: cloud, gpuNames: ["RTX 4090", "RTX 3090"], diskGb: 16, maxPricePerHour: 0.6, readyTimeoutSeconds: 60, autoStandbyEnabled: true,
  });
  const upped = await dumont(["up", "--stack", stackName]);
  expect(upped.code, upped.stdout + upped.stderr).toBe(0);
});
afterAll(async () => {
  await env?.cleanup();
  await down(cloud);
  rmSync(stateDir, { recursive: true, force: true });
});

describe("dumont ssh", () => {
  it("runs a command on the active GPU: its output, its stderr and its exit status are dumont's", async () => {
    const ran = await dumont(["ssh", "--stack", stackName, "--", "echo on-gpu; hostname >/dev/null; echo oops >&2; exit 7"]);
    expect(ran).toMatchObject({ code: 7, stdout: "on-gpu\n", stderr: "oops\n" });
  });

  it("passes the command's own options through (after --) and forwards stdin until it ends", async () => {
    const ran = await dumont(["ssh", "--stack", stackName, "--", "wc", "-c"], { input: "twelve bytes" });
    expect(ran.stdout.trim()).toBe("12");
    expect(ran.code).toBe(0);
    expect(await dumont(["ssh", "--stack", stackName, "--", "echo", "--help"])).toMatchObject({ code: 0, stdout: "--help\n" });
  });

  it("without a command and without a terminal, runs a shell that reads stdin", async () => {
    const ran = await dumont(["ssh", "--stack", stackName], { input: "echo $((6 * 7)); exit 4\n" });
    expect(ran).toMatchObject({ code: 4, stdout: "42\n" });
  });

  it("a shell on a terminal gets a pseudo-terminal and gives its exit status back", async () => {
    // script(1) runs dumont on a terminal of its own, as a person's shell would.
    const ran = await run("script", ["-qec", `${process.execPath} --disable-warning=ExperimentalWarning bin/dumont.ts ssh --stack ${stackName}`, "/dev/null"], {
      input: "tty; exit 5\n",
    });
    expect(ran.stdout, ran.stderr).toMatch(/\/dev\/pts\/\d+/);
    expect(ran.code).toBe(5);
    // A command from a terminal gets no pseudo-terminal (its output stays byte for byte), and
    // dumont ends with it instead of waiting on the idle terminal.
    const command = await run("script", ["-qec", `${process.execPath} --disable-warning=ExperimentalWarning bin/dumont.ts ssh --stack ${stackName} -- 'tty; exit 6'`, "/dev/null"]);
    expect(command.stdout, command.stderr).toMatch(/not a tty/);
    expect(command.code).toBe(6);
  });

  it("reaches a slot by name, and the standby as its own user with its pinned key", async () => {
    const slot = await dumont(["ssh", "--stack", stackName, "--slot", "a", "--", "test -d /workspace && echo slot-a"]);
    expect(slot).toMatchObject({ code: 0, stdout: "slot-a\n" });
    const standby = await dumont(["ssh", "--stack", stackName, "--standby", "--", "echo standby-$(id -un)"]);
    expect(standby.code, standby.stderr).toBe(0);
    expect(standby.stdout).toMatch(/^standby-\w+\n$/);
  });

  it("a slot without a GPU, or two targets at once: one line", async () => {
    expectOneLineError(await dumont(["ssh", "--stack", stackName, "--slot", "b", "--", "true"]), /slot b of stack it-fh-ssh has no GPU/, /its instances: a=\d+, b=none/);
    expectOneLineError(await dumont(["ssh", "--stack", stackName, "--slot", "a", "--standby"]), /give one of --slot, --instance and --standby/);
    expectOneLineError(await dumont(["ssh", "--stack", stackName, "ls"]), /the command goes after --/, /npx dumont ssh -- ls/);
  });
});

describe("dumont instance create", () => {
  it("the seed's manual test on GPUs outside the stack: create, files, snapshot, restore on a second, validate, cleanup by pattern", async () => {
    const rent = async (name: string) => {
      const created = await dumont(["instance", "create", "--stack", stackName, "--gpu", "RTX_4090", "--name", name]);
      expect(created.code, created.stderr).toBe(0);
      const [first, sshLine, costLine, destroyLine] = created.stdout.trimEnd().split("\n");
      const id = Number(new RegExp(`^instance (\\d+) \\(label ${name}\\.[0-9a-f]+\\): 1x RTX 4090 on machine \\d+, running$`).exec(first!)?.[1]);
      expect(id, created.stdout).toBeGreaterThan(0);
      expect(sshLine).toMatch(/^ {2}ssh {6}root@[\d.]+ -p \d+, host key SHA256:\S+ \(pinned\); log in: npx dumont ssh --instance \d+$/);
      expect(costLine).toMatch(/^ {2}cost {5}\$\d+\.\d{4}\/h/);
      expect(destroyLine).toBe(`  destroy  npx dumont instance destroy ${id} --stack ${stackName}`);
      return id;
    };
    const first = await rent("test-failover-1");
    const second = await rent("test-failover-2");

    const onIt = await dumont(["ssh", "--instance", String(first), "--", "echo throwaway"]);
    expect(onIt).toMatchObject({ code: 0, stdout: "throwaway\n" });

    // The guide's Test 2, by hand: files on the first, a snapshot into the stack's bucket, restored onto the second.
    const metadata = path.join(stateDir, `failover_files_${first}.json`);
    const files = await dumont(["files", "create", "--stack", stackName, "--instance", String(first), "--count", "5", "--output", metadata]);
    expect(files.code, files.stderr).toBe(0);
    const snapshot = await dumont(["snapshot", "create", "--stack", stackName, "--instance", String(first), "--name", "manual-test-1", "--json"]);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    const { id: snapshotId, source } = JSON.parse(snapshot.stdout);
    expect(source.label).toMatch(new RegExp(`^test-failover-1\\.[0-9a-f]+/${first}$`));
    const restored = await dumont(["snapshot", "restore", "--stack", stackName, "--id", snapshotId, "--instance", String(second)]);
    expect(restored.code, restored.stdout + restored.stderr).toBe(0);
    const validated = await dumont(["files", "validate", metadata, "--stack", stackName, "--instance", String(second)]);
    expect(validated.code, validated.stderr).toBe(0);
    expect(validated.stdout).toMatch(/Files validated: 5\/5/);

    // Not the stack's: an up (which sweeps the stack's orphans) leaves them running.
    for (const id of [first, second]) expect(isStackLabel(stackName, (await vast.showInstance(id))!.label)).toBe(false);
    const upped = await dumont(["up", "--stack", stackName]);
    expect(upped.code, upped.stderr).toBe(0);
    for (const id of [first, second]) expect((await vast.showInstance(id))?.actual_status).toBe("running");

    const listed = await dumont(["instance", "list", "--stack", stackName, "--pattern", "test-failover-*"]);
    expect(listed.stdout).toContain(String(first));
    const destroyed = await dumont(["instance", "destroy", "--stack", stackName, "--pattern", "test-failover-*"]);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(destroyed.stdout.trim().split("\n").sort()).toEqual([`destroyed ${first}`, `destroyed ${second}`].sort());
    // Its record (key, pinned host key) went with it: the id is now only looked for in the stack.
    expectOneLineError(await dumont(["ssh", "--stack", stackName, "--instance", String(first)]), new RegExp(`instance ${first} is not in stack ${stackName}`));
  });

  it("refuses a standby (it belongs to a stack) and a name that could pass for a stack's instance", async () => {
    for (const flag of ["--cpu-standby=true", "--cpu-standby"]) {
      const refused = await dumont(["instance", "create", "--stack", stackName, "--gpu", "RTX_4090", flag]);
      expect(refused.code).toBe(2);
      expectOneLineError(refused, /--cpu-standby: a CPU standby belongs to a stack/, /npx dumont up/);
    }
    const named = await dumont(["instance", "create", "--stack", stackName, "--name", `dumont-${stackName}-a`]);
    expect(named.code).toBe(2);
    expectOneLineError(named, /labels the instances of stacks/);
  });
});

describe("the errors of a first hour: one line each", () => {
  it("an unknown stack, a wrong passphrase, a local cloud that is not running", async () => {
    expectOneLineError(await dumont(["up", "--stack", "no-such-stack"]), /there is no stacks\/Pulumi\.no-such-stack\.yaml/, /copy stacks\/Pulumi\.local\.yaml/);

    const wrong = await dumont(["ssh", "--stack", stackName, "--", "true"], { env: { PULUMI_CONFIG_PASSPHRASE: "not-the-passphrase" } });
    expect(wrong.code).toBe(2);
    expectOneLineError(wrong, /PULUMI_CONFIG_PASSPHRASE: the passphrase does not open stack it-fh-ssh's secrets/, /encrypted with another passphrase/);

    const elsewhere = "it-fh-nocloud";
    writeStackFile(elsewhere, { cloud: "local", localCloud: "fhz" });
    try {
      const ran = await dumont(["up", "--stack", elsewhere]);
      expect(ran.code).toBe(2);
      expectOneLineError(ran, /uses the local cloud 'fhz', which is not running/, /npx dumont local-cloud up --cloud fhz/);
    } finally {
      rmSync(stackConfigFile(elsewhere), { force: true });
    }
  });
});
