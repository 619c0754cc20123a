// `dumont ssh [options] -- COMMAND…`: dumont's options end at `--`; the remote command's words,
// options included, are the command's. The remote exit becomes dumont's, as ssh(1) reports it.
import { describe, expect, it } from "vitest";
import { splitAtDoubleDash } from "../../../bin/commands/ssh.ts";
import { exitStatusOf, lostSessionStatus } from "../../../harness/ssh/remote-session.ts";

describe("dumont ssh arguments", () => {
  it("splits at the first --", () => {
    expect(splitAtDoubleDash(["--slot", "b", "--", "ls", "--help", "--", "x"])).toEqual({ options: ["--slot", "b"], command: ["ls", "--help", "--", "x"] });
  });

  it("without -- there is no command (a shell)", () => {
    expect(splitAtDoubleDash(["--standby"])).toEqual({ options: ["--standby"], command: undefined });
  });

  it("an empty command after -- is a shell too", () => {
    expect(splitAtDoubleDash(["--"])).toEqual({ options: [], command: [] });
  });
});

describe("remote exit status", () => {
  it.each([
    [0, undefined, 0],
    [3, undefined, 3],
    [null, "KILL", 137],
    [null, "SIGTERM", 143],
    [null, "NOT-A-SIGNAL", lostSessionStatus],
    [undefined, undefined, lostSessionStatus],
  ])("code %s, signal %s: %s", (code, signal, status) => {
    expect(exitStatusOf(code, signal)).toBe(status);
  });
});
