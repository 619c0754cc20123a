// What `dumont` prints for a failure and how it exits depends on who can fix it: the user (2), the
// machine or a provider (3), an operation that failed for a stated reason (1), or Dumont itself —
// a bug, said so, with its stack (70).
import { CommandError } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { failureReport, internalErrorExitCode } from "../../../bin/error-report.ts";
import { DumontError, EnvironmentError, SettingError, UsageError, UserError } from "../../../lib/errors.ts";
import { CommandFailed } from "../../../local-cloud/system.ts";
import { RestoreFailed } from "../../../dataplane/snapshot/restore.ts";
import { HostToolsMissing } from "../../../dataplane/ssh/host-tools.ts";
import { MirrorShrinkRefused } from "../../../dataplane/standby/generations.ts";
import { VastApiError } from "../../../clouds/vast/client.ts";
import { StackBusy } from "../../../stacks/failover/lock.ts";
import { LeaseBusy, LeaseLost } from "../../../stacks/lease/controller-lease.ts";

describe("the error hierarchy", () => {
  it("user errors, environment errors and failed operations are all DumontErrors, each with its exit status", () => {
    expect(new UserError("x")).toBeInstanceOf(DumontError);
    expect(new UsageError("x")).toBeInstanceOf(UserError);
    expect(new SettingError("dumont:x", "bad")).toBeInstanceOf(UserError);
    expect(new EnvironmentError("x")).toBeInstanceOf(DumontError);
    expect(new EnvironmentError("x")).not.toBeInstanceOf(UserError);
    expect([new DumontError("x"), new UserError("x"), new UsageError("x"), new SettingError("s", "x"), new EnvironmentError("x")].map((e) => e.exitCode)).toEqual([1, 2, 2, 2, 3]);
    expect(new UsageError("x").name).toBe("UsageError");
  });

  it.each<[string, string, Error]>([
    ["a lock another operation holds", "user", new StackBusy("prod", { pid: 42, operation: "failover", since: "2026-01-01T00:00:00Z" })],
    ["a lease another controller holds", "user", new LeaseBusy("stack prod", undefined)],
    ["a standby copy that would shrink", "user", new MirrorShrinkRefused(100, 3)],
    ["a host without the tools Dumont needs", "environment", new HostToolsMissing("10.0.0.5:22", "no package manager")],
    ["a system command the machine refused", "environment", new CommandFailed("ip", ["link", "add"], 2, "RTNETLINK answers: Operation not permitted")],
    ["a lease lost", "operation", new LeaseLost("stack prod", "not renewed")],
  ])("%s: %s", (_, kind, error) => {
    expect(failureReport(error).kind).toBe(kind);
  });

  it("a restore that failed verification is an operation that failed, with every line of its report", () => {
    const report = { manifest: { id: "20260101T000000000Z-a", entries: [{}, {}] }, damagedArchives: [], mismatches: [{ path: "x", problem: "MD5 differs" }], mismatchCount: 1 };
    const failed = new RestoreFailed(report as unknown as ConstructorParameters<typeof RestoreFailed>[0]);
    const printed = failureReport(failed);
    expect(printed).toMatchObject({ kind: "operation", exitCode: 1 });
    expect(printed.lines[0]).toBe("dumont: restore of 20260101T000000000Z-a failed verification\n  1 of 2 entries differ:\n  \"x\": MD5 differs");
  });
});

describe("failureReport", () => {
  it("a user error: its message and its hint, exit 2", () => {
    expect(failureReport(new UserError("no snapshot 'x'", "see `npx dumont snapshot list`"))).toEqual({
      kind: "user", exitCode: 2, lines: ["dumont: no snapshot 'x'", "  see `npx dumont snapshot list`"],
    });
  });

  it("a setting error names the setting", () => {
    expect(failureReport(new SettingError("dumont:gpuCount (env GPU_COUNT)", "'two' is not a whole number")).lines).toEqual(["dumont: dumont:gpuCount (env GPU_COUNT): 'two' is not a whole number"]);
  });

  it("the environment's fault: exit 3, or the status the error asks for", () => {
    expect(failureReport(new EnvironmentError("the local cloud needs root", "run it with sudo"))).toEqual({
      kind: "environment", exitCode: 3, lines: ["dumont: the local cloud needs root", "  run it with sudo"],
    });
    expect(failureReport(new EnvironmentError("cannot log in", undefined, { exitCode: 255 })).exitCode).toBe(255);
  });

  it("an operation that failed for a stated reason: exit 1, no stack", () => {
    const report = failureReport(new DumontError("the old GPU 7 is still running a minute after it was told to stop", { hint: "re-run dumont failover" }));
    expect(report).toEqual({ kind: "operation", exitCode: 1, lines: ["dumont: the old GPU 7 is still running a minute after it was told to stop", "  re-run dumont failover"] });
  });

  it("anything else is a bug: said so, with its stack and its cause's, exit 70", () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'instanceId')", { cause: new RangeError("deeper") });
    const report = failureReport(bug);
    expect(report.kind).toBe("internal");
    expect(report.exitCode).toBe(internalErrorExitCode);
    expect(internalErrorExitCode).toBe(70);
    expect(report.lines[0]).toBe("dumont: internal error: TypeError: Cannot read properties of undefined (reading 'instanceId')");
    expect(report.lines[1]).toMatch(/a bug in Dumont/);
    expect(report.lines.some((l) => /^\s+at .*error-report\.test\.ts/.test(l))).toBe(true);
    expect(report.lines).toContain("caused by:");
    expect(report.lines.some((l) => l.includes("RangeError: deeper"))).toBe(true);
  });

  it("a bug's stack is left out when DUMONT_DEBUG printed the error already", () => {
    expect(failureReport(new Error("boom"), {}, { withStack: false }).lines).toEqual(["dumont: internal error: Error: boom", "  this is a bug in Dumont, not something you did: please report it with what follows"]);
  });

  it("a thrown value that is not an Error is a bug too", () => {
    expect(failureReport("just a string")).toMatchObject({ kind: "internal", exitCode: 70, lines: expect.arrayContaining(["dumont: internal error: just a string"]) });
  });
});

describe("errors from providers, translated", () => {
  it("Vast's API failing: the provider's fault, exit 3", () => {
    const report = failureReport(new VastApiError("GET", "/api/v0/instances/", 500, "server_error", "try later", {}));
    expect(report).toMatchObject({ kind: "environment", exitCode: 3 });
    expect(report.lines[0]).toBe("dumont: Vast.ai's API failed: Vast API GET /api/v0/instances/: 500 server_error: try later");
  });

  it("the object store refusing a request: exit 3, naming the S3 error", () => {
    const denied = Object.assign(new Error("Access Denied."), { name: "AccessDenied", $metadata: { httpStatusCode: 403 }, $fault: "client" });
    const report = failureReport(denied);
    expect(report).toMatchObject({ kind: "environment", exitCode: 3 });
    expect(report.lines[0]).toBe("dumont: the object store refused a request: AccessDenied (HTTP 403): Access Denied.");
  });

  it("a Dumont error thrown inside the engine's run keeps its exit status", () => {
    const stderr = [
      "Command failed with exit code 1: pulumi up --yes --stack prod --non-interactive",
      "Diagnostics:",
      "  pulumi:pulumi:Stack (dumont-prod):",
      "    error: Running program '/work/main/stacks/program.ts' failed with an unhandled exception:",
      "    UserError: provisionedSlots: slots are 'a' and 'b', got c",
      "        at checkEnvironmentArgs (file:///work/main/components/environment.ts:45:3) {",
      "      exitCode: 2,",
      "      hint: 'fix dumont:slots',",
      "      [cause]: undefined",
      "    }",
    ].join("\n");
    const result = { stdout: "", stderr, code: 1, toString: () => stderr };
    const error = new (CommandError as unknown as new (r: typeof result) => Error)(result);
    expect(failureReport(error)).toEqual({
      kind: "user", exitCode: 2, lines: ["dumont: pulumi up failed: provisionedSlots: slots are 'a' and 'b', got c", "  fix dumont:slots"],
    });
  });
});
