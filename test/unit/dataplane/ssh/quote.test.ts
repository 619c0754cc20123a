// Remote command lines: every argument reaches the host as one word, whatever it holds, and an
// argument no command line can carry (a NUL) is refused here, not by a dropped connection.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { quoteCommand } from "../../../../dataplane/ssh/quote.ts";

describe("quoteCommand", () => {
  it("hands a shell each argument as one word", () => {
    const argv = ["printf", "%s\\n", "it's", "$(echo no)", "a b", "`x`", "*", "", "-n"];
    const out = execFileSync("sh", ["-c", quoteCommand(argv)]).toString();
    expect(out.split("\n").slice(0, -1)).toEqual(argv.slice(2));
  });

  it("refuses a NUL byte, naming the argument", () => {
    expect(() => quoteCommand(["bash", "-c", "printf 'a\0'"])).toThrow(/argument 2 of remote command "bash" holds a NUL byte/);
  });
});
