// Text a host wrote (stderr, messages, names) made safe to show: a GPU host is someone else's
// machine, and its root can write anything into what we print. Terminal escape sequences could
// retitle the window, rewrite earlier lines, plant hyperlinks or (on some terminals) answer back
// into the input; a carriage return or a bidi override can make "failed" read as "ok". So escape
// sequences are removed, every other control character is shown as an escape (\x1b, \u{202e}), and
// the text is cut to a length that fits a message.

/**
 * Escape sequences, whole: string commands (OSC, DCS, SOS, PM, APC) up to their terminator (or the
 * next ESC or line: an unterminated one must not swallow the lines after it), CSI with parameters,
 * and the short ESC forms. 7-bit and 8-bit (C1) introducers alike.
 */
const escapeSequence = new RegExp([
  String.raw`(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c|(?=[\x1b\n])|$)`,
  String.raw`(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]`,
  String.raw`\x1b[\x20-\x2f]*[\x30-\x7e]`,
].join("|"), "g");

/**
 * What is shown escaped: C0 controls but tab and newline (newline only in multi-line text), DEL,
 * C1 controls, and the invisible characters that reorder or break what is around them (bidi
 * embeddings, overrides and isolates, line and paragraph separators, zero-width no-break space).
 */
const unsafeInLines = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
const unsafeInText = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

function escaped(char: string): string {
  const code = char.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
}

/** Cuts text to at most `max` characters, marking the cut with "…", keeping the start or the end. */
function bounded(text: string, max: number, keep: "start" | "end"): string {
  if (text.length <= max) return text;
  if (keep === "start") {
    let end = max - 1;
    if (isLowSurrogate(text.charCodeAt(end))) end--;
    return `${text.slice(0, end)}…`;
  }
  let start = text.length - (max - 1);
  if (isLowSurrogate(text.charCodeAt(start))) start++;
  return `…${text.slice(start)}`;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function sanitize(text: string, unsafe: RegExp, max: number, keep: "start" | "end"): string {
  // Cut before the work too: a flood of megabytes need not be scanned to show its last lines.
  // Four times the room is kept, since removing sequences shortens what is left.
  const room = Math.max(4 * max, 4096);
  const input = text.length > room ? bounded(text, room, keep) : text;
  return bounded(input.replace(escapeSequence, "").replace(unsafe, escaped), max, keep);
}

/** Host text of several lines (a command's stderr): the end is kept, where a failure says why. */
export function sanitizeHostText(text: string, maxChars = 2000): string {
  return sanitize(text, unsafeInText, maxChars, "end");
}

/** One line of host text (a name, a message, a command's first line): newlines are escaped too. */
export function sanitizeHostLine(text: string, maxChars = 200): string {
  return sanitize(text, unsafeInLines, maxChars, "start");
}

/**
 * An error whose message may quote the host (ssh2 passes on a server's disconnect reason and
 * channel-open failure text): the same error when the message is clean, else one with the message
 * sanitized and the same name and code, so that neither the message nor the stack carries it.
 */
export function withSanitizedMessage(error: Error): Error {
  const clean = sanitizeHostText(error.message, 1000);
  if (clean === error.message) return error;
  const replacement = new Error(clean);
  replacement.name = error.name;
  for (const key of ["code", "level", "reason"] as const) {
    if (key in error) Object.assign(replacement, { [key]: (error as unknown as Record<string, unknown>)[key] });
  }
  return replacement;
}
