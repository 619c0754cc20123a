// Host text made safe to show: no escape sequence or control character reaches the terminal, and
// nothing is longer than its room.
import { describe, expect, it } from "vitest";
import { sanitizeHostLine, sanitizeHostText, withSanitizedMessage } from "../../../../dataplane/ssh/sanitize.ts";

/** Every character a terminal could act on. */
const controls = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;

/** A surrogate without its pair: what a cut through a character would leave. */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe("sanitizing host text", () => {
  it("leaves ordinary text alone, UTF-8 names included", () => {
    expect(sanitizeHostText("tar: ./résumé.txt: file changed as we read it\n\tdone")).toBe("tar: ./résumé.txt: file changed as we read it\n\tdone");
    expect(sanitizeHostLine("rsync error: 日本語 (code 23)")).toBe("rsync error: 日本語 (code 23)");
  });

  it.each([
    ["colour (CSI SGR)", "\x1b[1;31mred\x1b[0m", "red"],
    ["screen clear and cursor moves", "a\x1b[2J\x1b[H\x1b[10;20fb", "ab"],
    ["window title (OSC, BEL-terminated)", "x\x1b]0;owned\x07y", "xy"],
    ["hyperlink (OSC 8, ST-terminated)", "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "click"],
    ["unterminated OSC up to the next sequence", "\x1b]2;title\x1b[31mz", "z"],
    ["unterminated OSC to the end", "ok\x1b]0;never ends", "ok"],
    ["unterminated OSC up to the end of its line only", "\x1b]0;hide\nthe real reason", "\nthe real reason"],
    ["DCS (e.g. a terminal query)", "\x1bP+q544e\x1b\\after", "after"],
    ["short ESC forms (reset, save cursor)", "\x1bc\x1b7text\x1b8", "text"],
    ["8-bit CSI and OSC", "\x9b31mred\x9d0;t\x07!", "red!"],
  ])("removes %s", (_what, input, expected) => {
    expect(sanitizeHostText(input)).toBe(expected);
  });

  it("shows other control characters as escapes", () => {
    expect(sanitizeHostText("ok\rFAILED\x00\x07\x7f")).toBe("ok\\x0dFAILED\\x00\\x07\\x7f");
    expect(sanitizeHostText("a lone \x1b")).toBe("a lone \\x1b");
    expect(sanitizeHostText("\u202eevil\u2066")).toBe("\\u{202e}evil\\u{2066}");
  });

  it("keeps newlines in text but escapes them in a line", () => {
    expect(sanitizeHostText("one\ntwo")).toBe("one\ntwo");
    expect(sanitizeHostLine("one\ntwo\r")).toBe("one\\x0atwo\\x0d");
  });

  it("keeps the end of text and the start of a line, marking the cut", () => {
    const long = `${"a".repeat(5000)}the reason`;
    const text = sanitizeHostText(long, 100);
    expect(text).toHaveLength(100);
    expect(text.startsWith("…") && text.endsWith("the reason")).toBe(true);
    const line = sanitizeHostLine(`start${"b".repeat(5000)}`, 50);
    expect(line).toHaveLength(50);
    expect(line.startsWith("start") && line.endsWith("…")).toBe(true);
  });

  it("does not split a surrogate pair at the cut", () => {
    const line = sanitizeHostLine("x".repeat(8) + "😀".repeat(10), 10);
    expect(line).not.toMatch(loneSurrogate);
    const text = sanitizeHostText("😀".repeat(10) + "x".repeat(8), 10);
    expect(text).not.toMatch(loneSurrogate);
  });

  it("bounds a flood of escapes without leaving a control character", () => {
    const flood = "\x1b]0;t\x07\x1b[2J\x9b31m\x1b\x1b\x1b[\x07\r".repeat(200_000);
    const text = sanitizeHostText(flood);
    expect(text.length).toBeLessThanOrEqual(2000);
    expect(text).not.toMatch(controls);
    expect(sanitizeHostLine(flood)).not.toMatch(controls);
  });

  it("gives back an error without the host's escapes, keeping its name and code", () => {
    const raw = Object.assign(new Error("Disconnected: \x1b]0;owned\x07bye"), { code: 11, level: "protocol" });
    const clean = withSanitizedMessage(raw);
    expect(clean.message).toBe("Disconnected: bye");
    expect(clean.stack).not.toMatch(controls);
    expect(clean).toMatchObject({ code: 11, level: "protocol" });
    const plain = new Error("Timed out while waiting for handshake");
    expect(withSanitizedMessage(plain)).toBe(plain);
  });
});
