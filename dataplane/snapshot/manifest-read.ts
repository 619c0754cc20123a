// Reading a manifest (JSON, about 150 MB at a million files) as it downloads. JSON.parse needs
// the whole text: the downloaded bytes, their decoded string and the parsed tree were all alive at
// once, about 300 MB beyond the tree itself at a million entries. Here the top-level object is
// taken apart as the bytes arrive, and each element of its arrays (an entry, a path) is handed to
// JSON.parse on its own: what stays is the parsed manifest and one chunk. The result is what
// JSON.parse of the whole text gives (a later duplicate key wins, "__proto__" is a plain key), but
// for the top-level arrays a caller's `collect` takes: their elements go where it says (the store
// keeps a manifest's entries and path lists compact: entry-table.ts).
import { DumontError } from "../../lib/errors.ts";

/** The longest single value outside the arrays' elements, or element, accepted: an entry is well under 100 KiB (a path and a target of at most 4 KiB bytes each, escaped). */
const longestValue = 1024 * 1024;

const quote = 0x22;
const backslash = 0x5c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const comma = 0x2c;
const colon = 0x3a;

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

class ManifestSyntaxError extends DumontError {
  constructor(what: string, problem: string) {
    super(`${what} is not a manifest: ${problem}`);
  }
}

/** Bytes as they arrive, with what is not consumed yet kept (never more than one value and a chunk). */
class Bytes {
  buffer = Buffer.alloc(0);
  at = 0;
  private ended = false;
  private readonly source: AsyncIterator<Uint8Array>;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.source = source[Symbol.asyncIterator]();
  }

  get length(): number {
    return this.buffer.length;
  }

  text(from: number, to: number): string {
    return this.buffer.toString("utf8", from, to);
  }

  /** Reads another chunk, keeping the bytes not consumed yet; false once the source has ended. */
  async more(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.buffer = Buffer.concat([this.buffer.subarray(this.at), next.value]);
    this.at = 0;
    return true;
  }

  /** Lets the source go (a refused manifest is not read to its end: its connection is freed). */
  async close(): Promise<void> {
    await this.source.return?.();
  }

  /** The next byte that is not white space (not consumed), or -1 at the end of the input. */
  async peek(): Promise<number> {
    for (;;) {
      while (this.at < this.buffer.length && isSpace(this.buffer[this.at]!)) this.at++;
      if (this.at < this.buffer.length) return this.buffer[this.at]!;
      if (!(await this.more())) return -1;
    }
  }
}

/**
 * Scans a container's bytes from `from` (inside it, at its own level): the index of the bracket or
 * brace that closes it, or -1 if it does not close in these bytes, and the last comma at its level
 * before that. Strings are skipped whole: a bracket or comma in a name is not one.
 */
function levelEnd(bytes: Buffer, from: number): { close: number; lastComma: number } {
  let depth = 0;
  let lastComma = -1;
  for (let i = from; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === quote) {
      i = stringEnd(bytes, i);
      if (i < 0) break;
    } else if (b === openBrace || b === openBracket) depth++;
    else if (b === closeBrace || b === closeBracket) {
      if (depth === 0) return { close: i, lastComma };
      depth--;
    } else if (b === comma && depth === 0) lastComma = i;
  }
  return { close: -1, lastComma };
}

/** The closing quote of the string opening at `open`, or -1 if not in these bytes. */
function stringEnd(bytes: Buffer, open: number): number {
  for (let at = open + 1; ; at++) {
    at = bytes.indexOf(quote, at);
    if (at < 0) return -1;
    let backslashes = 0;
    while (bytes[at - 1 - backslashes] === backslash) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}

/**
 * Where the JSON value starting at `start` ends (one past its last byte), or -1 when the bytes at
 * hand end first. Only its extent is found here; JSON.parse checks the value itself.
 */
function valueEnd(bytes: Buffer, start: number, atEnd: boolean): number {
  const first = bytes[start];
  if (first === quote) {
    const close = stringEnd(bytes, start);
    return close < 0 ? -1 : close + 1;
  }
  if (first === openBrace || first === openBracket) {
    const { close } = levelEnd(bytes, start + 1);
    return close < 0 ? -1 : close + 1;
  }
  // A number, true, false or null: up to the next delimiter.
  for (let i = start; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === comma || b === closeBrace || b === closeBracket || isSpace(b)) return i;
  }
  return atEnd ? bytes.length : -1;
}

/** Where a top-level array's elements go as they are parsed (an array, unless `collect` says otherwise). */
export interface ArraySink {
  push(element: unknown): void;
  /** The array ended (a table gives up its growth room). */
  trim?(): void;
}

class ManifestReader {
  private readonly bytes: Bytes;
  private readonly what: string;
  private readonly onHeader?: (header: Record<string, unknown>) => void;
  private readonly collect: (key: string) => ArraySink | undefined;
  private headerGiven = false;

  constructor(source: AsyncIterable<Uint8Array>, what: string, onHeader?: (header: Record<string, unknown>) => void, collect?: (key: string) => ArraySink | undefined) {
    this.bytes = new Bytes(source);
    this.what = what;
    this.onHeader = onHeader;
    this.collect = collect ?? (() => undefined);
  }

  private refuse(problem: string): never {
    throw new ManifestSyntaxError(this.what, problem);
  }

  private async expect(byte: number, where: string): Promise<void> {
    if ((await this.bytes.peek()) !== byte) this.refuse(`expected '${String.fromCharCode(byte)}' ${where}`);
    this.bytes.at++;
  }

  /** The next value, parsed on its own. */
  private async value(): Promise<unknown> {
    if ((await this.bytes.peek()) < 0) this.refuse("it ends early");
    let end = valueEnd(this.bytes.buffer, this.bytes.at, false);
    while (end < 0) {
      if (this.bytes.length - this.bytes.at > longestValue) this.refuse(`a value runs past ${longestValue} bytes`);
      const more = await this.bytes.more();
      end = valueEnd(this.bytes.buffer, this.bytes.at, !more);
      if (end < 0 && !more) this.refuse("it ends in the middle of a value");
    }
    const text = this.bytes.text(this.bytes.at, end);
    this.bytes.at = end;
    try {
      return JSON.parse(text);
    } catch (error) {
      return this.refuse((error as Error).message);
    }
  }

  /**
   * An array, taken a batch at a time: every element complete in the bytes at hand is parsed in one
   * JSON.parse (one call per chunk, not per element), which also checks the commas between them.
   */
  private async array<Sink extends ArraySink>(elements: Sink): Promise<Sink> {
    await this.expect(openBracket, "at an array's start");
    let afterComma = false;
    for (;;) {
      await this.bytes.peek();
      const { close, lastComma } = levelEnd(this.bytes.buffer, this.bytes.at);
      if (close >= 0 && this.bytes.buffer[close] !== closeBracket) this.refuse("an array ends with '}'");
      const cut = close >= 0 ? close : lastComma;
      if (cut < 0) {
        if (this.bytes.length - this.bytes.at > longestValue) this.refuse(`a value runs past ${longestValue} bytes`);
        if (!(await this.bytes.more())) this.refuse("it ends in the middle of an array");
        continue;
      }
      const batch = this.bytes.text(this.bytes.at, cut);
      this.bytes.at = cut + 1;
      if (batch.trim() === "") {
        if (afterComma || close < 0) this.refuse("expected a value in an array");
        return elements;
      }
      let parsed: unknown[];
      try {
        parsed = JSON.parse(`[${batch}]`) as unknown[];
      } catch (error) {
        return this.refuse((error as Error).message);
      }
      for (const element of parsed) elements.push(element);
      if (close >= 0) return elements;
      afterComma = true;
    }
  }

  async read(): Promise<Record<string, unknown>> {
    try {
      return await this.object();
    } finally {
      await this.bytes.close();
    }
  }

  private async object(): Promise<Record<string, unknown>> {
    const manifest: Record<string, unknown> = {};
    await this.expect(openBrace, "at the start");
    if ((await this.bytes.peek()) === closeBrace) this.bytes.at++;
    else {
      for (;;) {
        if ((await this.bytes.peek()) !== quote) this.refuse("expected a key");
        const key = (await this.value()) as string;
        await this.expect(colon, `after the key ${JSON.stringify(key)}`);
        if (key === "entries" && !this.headerGiven) {
          this.headerGiven = true;
          this.onHeader?.({ ...manifest });
        }
        let value: unknown;
        if ((await this.bytes.peek()) === openBracket) {
          const sink = this.collect(key);
          value = await this.array(sink ?? []);
          sink?.trim?.();
        } else value = await this.value();
        // A key like "__proto__" is data here, as JSON.parse makes it.
        Object.defineProperty(manifest, key, { value, enumerable: true, writable: true, configurable: true });
        const next = await this.bytes.peek();
        this.bytes.at++;
        if (next === closeBrace) break;
        if (next !== comma) this.refuse("expected ',' or '}' after a value");
      }
    }
    if ((await this.bytes.peek()) !== -1) this.refuse("something follows its end");
    return manifest;
  }
}

/**
 * A manifest's JSON, parsed as it arrives (`what` names it in errors). `onHeader` gets what came
 * before its entries (a manifest's first bytes: its id, chain, stack and archive) as soon as they
 * are there, seconds before the rest at a million entries: once, at the first "entries" key. It is
 * not called for a manifest without entries, and a key after the entries (a later duplicate of one
 * it got, too) may still change the result: a caller that acted on the header checks the result.
 */
export function readManifestJson(
  source: AsyncIterable<Uint8Array>, what: string, onHeader?: (header: Record<string, unknown>) => void, collect?: (key: string) => ArraySink | undefined,
): Promise<Record<string, unknown>> {
  return new ManifestReader(source, what, onHeader, collect).read();
}
