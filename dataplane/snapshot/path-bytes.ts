// File names are bytes (anything but NUL and '/' in a component); JavaScript strings are UTF-16.
// Paths cross between the two with Python's "surrogateescape" convention: valid UTF-8 decodes as
// usual, and each byte of an invalid sequence becomes the lone surrogate U+DC80..U+DCFF (byte
// 0x80..0xFF), which valid UTF-8 can never produce. So every byte string round-trips exactly, and
// JSON keeps the escapes as "\udcXX" (JSON.stringify writes lone surrogates that way).
import { isUtf8 } from "node:buffer";
import { Readable } from "node:stream";

const escapeBase = 0xdc00;

/** How many bytes the valid UTF-8 sequence at `i` has, or 0 when the byte there starts none. */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const first = bytes[i]!;
  if (first < 0x80) return 1;
  const continuation = (at: number, low = 0x80, high = 0xbf) => at < bytes.length && bytes[at]! >= low && bytes[at]! <= high;
  // The ranges of RFC 3629's table: no overlong forms, no encoded surrogates, nothing past U+10FFFF.
  if (first >= 0xc2 && first <= 0xdf) return continuation(i + 1) ? 2 : 0;
  if (first >= 0xe0 && first <= 0xef) {
    const [low, high] = first === 0xe0 ? [0xa0, 0xbf] : first === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return continuation(i + 1, low, high) && continuation(i + 2) ? 3 : 0;
  }
  if (first >= 0xf0 && first <= 0xf4) {
    const [low, high] = first === 0xf0 ? [0x90, 0xbf] : first === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return continuation(i + 1, low, high) && continuation(i + 2) && continuation(i + 3) ? 4 : 0;
  }
  return 0;
}

/** Bytes from a host (a name, or a whole NUL-separated listing) as a string; see the file comment. */
export function pathFromBytes(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString("utf8");
  let text = "";
  let validFrom = 0;
  for (let i = 0; i < bytes.length;) {
    const length = utf8SequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    text += bytes.toString("utf8", validFrom, i) + String.fromCharCode(escapeBase + bytes[i]!);
    validFrom = ++i;
  }
  return text + bytes.toString("utf8", validFrom);
}

/** The bytes a string from pathFromBytes stands for. Other lone surrogates name no bytes: refused. */
export function pathToBytes(path: string): Buffer {
  const chunks: Buffer[] = [];
  let plainFrom = 0;
  for (let i = 0; i < path.length; i++) {
    const unit = path.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = path.charCodeAt(i + 1);
    if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++; // a surrogate pair: an ordinary character beyond U+FFFF
      continue;
    }
    if (unit < 0xdc80 || unit > 0xdcff) throw new Error(`path ${JSON.stringify(path)} holds a lone surrogate that stands for no byte`);
    chunks.push(Buffer.from(path.slice(plainFrom, i), "utf8"), Buffer.of(unit - escapeBase));
    plainFrom = i + 1;
  }
  if (chunks.length === 0) return Buffer.from(path, "utf8");
  chunks.push(Buffer.from(path.slice(plainFrom), "utf8"));
  return Buffer.concat(chunks);
}

/** Whether a string holds a UTF-16 surrogate: only then can it stand for bytes that are not UTF-8. */
export function hasSurrogate(text: string): boolean {
  return surrogate.test(text);
}

const surrogate = /[\ud800-\udfff]/;

/** Fields for a host script's stdin, each NUL-terminated (the one byte no field can hold). */
export function nulTerminated(fields: Iterable<string>): Buffer {
  const list = Array.isArray(fields) ? (fields as readonly string[]) : Array.from(fields);
  if (list.length === 0) return Buffer.alloc(0);
  // Lists run to a million paths: one encoding of the whole list unless a name needs byte escapes.
  const joined = `${list.join("\0")}\0`;
  if (!hasSurrogate(joined)) return Buffer.from(joined, "utf8");
  const chunks: Buffer[] = [];
  for (const field of list) chunks.push(pathToBytes(field), nul);
  return Buffer.concat(chunks);
}

/** Paths for a host command that takes them as arguments (tar -T, xargs): "./<path>", so none reads as an option. */
export function hostPathList(paths: Iterable<string>): Buffer {
  return nulTerminated(Array.from(paths, (p) => `./${p}`));
}

const itemsPerSlice = 8192;

/**
 * A list for a host's stdin, encoded a slice at a time as the host reads it: a million paths are
 * never one string and one buffer at once on the controller.
 */
export function sliced(items: Iterable<string>, encode: (slice: string[]) => Buffer | string): Readable {
  return Readable.from((function* () {
    let slice: string[] = [];
    for (const item of items) {
      slice.push(item);
      if (slice.length === itemsPerSlice) {
        yield encode(slice);
        slice = [];
      }
    }
    if (slice.length > 0) yield encode(slice);
  })());
}

/** hostPathList, a slice at a time (sliced). */
export function hostPathStream(paths: Iterable<string>): Readable {
  return sliced(paths, hostPathList);
}

const nul = Buffer.of(0);
