// Collecting a remote command's output in bounded memory: stdout up to a cap (past it the command
// is stopped, see client.ts), the end of stderr, and stderr split into lines of bounded length. The
// host decides how much it writes; these decide how much of it the controller holds.

/** A stream's bytes up to `cap`; once more arrive, nothing more is kept and `exceeded` is set. */
export class CappedBytes {
  readonly cap: number;
  private chunks: Buffer[] = [];
  private size = 0;
  private over = false;

  constructor(cap: number) {
    this.cap = cap;
  }

  /** Keeps the chunk; false (and nothing kept, ever again) when it would pass the cap. */
  add(chunk: Buffer): boolean {
    if (!this.count(chunk)) {
      this.chunks = [];
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  /** Counts the chunk without keeping it (its reader parses it as it comes); false past the cap, as add. */
  count(chunk: Buffer): boolean {
    if (this.over) return false;
    if (this.size + chunk.length > this.cap) {
      this.over = true;
      return false;
    }
    this.size += chunk.length;
    return true;
  }

  get exceeded(): boolean {
    return this.over;
  }

  /** What was kept (nothing of what was only counted). */
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** The last `limit` bytes of a stream, and whether anything before them was dropped. */
export class ByteTail {
  readonly limit: number;
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = false;

  constructor(limit: number) {
    this.limit = limit;
  }

  add(chunk: Buffer): void {
    // A copy of a big chunk's end: a view would keep the whole chunk alive.
    const kept = chunk.length > this.limit ? Buffer.from(chunk.subarray(chunk.length - this.limit)) : chunk;
    if (kept !== chunk) this.dropped = true;
    this.chunks.push(kept);
    this.size += kept.length;
    while (this.size - this.chunks[0]!.length >= this.limit) {
      this.size -= this.chunks.shift()!.length;
      this.dropped = true;
    }
  }

  get truncated(): boolean {
    return this.dropped || this.size > this.limit;
  }

  bytes(): Buffer {
    const all = Buffer.concat(this.chunks, this.size);
    return all.length > this.limit ? all.subarray(all.length - this.limit) : all;
  }

  /** As text, "…" first when the start was dropped (the cut may fall inside a character). */
  text(): string {
    const text = this.bytes().toString("utf8");
    return this.truncated ? `…${text}` : text;
  }
}

/**
 * Splits a byte stream into lines (without their "\n") for `onLine`. A line longer than `maxBytes`
 * is handed on cut to its first `maxBytes` bytes, and the rest of it is dropped. Bytes are split
 * before decoding, so a character split across two chunks arrives whole. A last line without "\n"
 * is not handed on: it may be a line the host never finished.
 */
export class LineSplitter {
  readonly maxBytes: number;
  private readonly onLine: (line: string) => void;
  private partial: Buffer[] = [];
  private partialSize = 0;
  /** The current line passed maxBytes and was handed on already: skip to its end. */
  private skipping = false;

  constructor(maxBytes: number, onLine: (line: string) => void) {
    this.maxBytes = maxBytes;
    this.onLine = onLine;
  }

  add(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      if (!this.skipping) {
        this.append(chunk.subarray(start, newline));
        if (!this.skipping) this.emit();
      }
      this.skipping = false;
      start = newline + 1;
    }
    if (!this.skipping) this.append(chunk.subarray(start));
  }

  /** Adds to the line in progress; a line that reaches past maxBytes is handed on now, cut. */
  private append(piece: Buffer): void {
    const room = this.maxBytes - this.partialSize;
    if (piece.length <= room) {
      if (piece.length) this.partial.push(Buffer.from(piece));
      this.partialSize += piece.length;
      return;
    }
    this.partial.push(Buffer.from(piece.subarray(0, room)));
    this.partialSize += room;
    this.emit();
    this.skipping = true;
  }

  private emit(): void {
    const line = Buffer.concat(this.partial, this.partialSize).toString("utf8");
    this.partial = [];
    this.partialSize = 0;
    this.onLine(line);
  }
}
