// The remote exit becomes dumont's, as ssh(1) reports it: a signal as 128 + its number, a session
// lost without a status as 255.
import { describe, expect, it } from "vitest";
import { exitStatusOf, lostSessionStatus } from "../../../../dataplane/ssh/remote-session.ts";

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
