// A manifest as the JSON bytes the store keeps, made a piece at a time. JSON.stringify of the whole
// manifest makes a string as large as the bytes (about 170 MB at a million files), and the request
// then holds both: here its per-file arrays are serialized a few thousand items at a time, measured
// in a first pass and written in a second, into one buffer (a small manifest) or into parts of a
// fixed size (a large one: nothing is ever whole).
// The bytes are exactly JSON.stringify's (same keys, same order): readers see no difference.
import { randomUUID } from "node:crypto";
import type { Manifest } from "./manifest.ts";

/** The fields that grow with the file count. */
const perFileFields = ["entries", "included", "deleted", "discarded"] as const;
/**
 * A piece's length in characters, about: a longer string is made in V8's large-object space, which
 * only a full collection frees (pieces of 4,096 entries, some 700 KB each, piled up there while a
 * million-file manifest was written), a shorter one dies young.
 */
const pieceLength = 32 * 1024;

/** An array (or a table read from the store: its items are made one at a time). */
function* arrayPieces(items: Iterable<unknown>): Generator<string> {
  yield "[";
  let piece: string[] = [];
  let length = 0;
  let first = true;
  const flush = () => {
    const text = piece.join(",");
    piece = [];
    length = 0;
    const wasFirst = first;
    first = false;
    return wasFirst ? text : `,${text}`;
  };
  for (const item of items) {
    // JSON.stringify's own rule for an array's items: what it cannot write is null.
    const text = JSON.stringify(item) ?? "null";
    piece.push(text);
    length += text.length + 1;
    if (length >= pieceLength) yield flush();
  }
  if (piece.length > 0) yield flush();
  yield "]";
}

/** The manifest's JSON text in pieces, in order. */
function* manifestPieces(manifest: Manifest): Generator<string> {
  // Each per-file array stands in the skeleton as a token no value can contain (a fresh UUID).
  const present = perFileFields.filter((field) => manifest[field] !== undefined);
  const tokens = new Map(present.map((field) => [field, `\u0001${randomUUID()}\u0001`]));
  const skeleton = JSON.stringify({ ...manifest, ...Object.fromEntries(tokens) });
  const spots = present
    .map((field) => ({ field, quoted: JSON.stringify(tokens.get(field)), at: skeleton.indexOf(JSON.stringify(tokens.get(field))) }))
    .sort((a, b) => a.at - b.at);
  let from = 0;
  for (const spot of spots) {
    yield skeleton.slice(from, spot.at);
    yield* arrayPieces(manifest[spot.field]!);
    from = spot.at + spot.quoted.length;
  }
  yield skeleton.slice(from);
}

/**
 * How many bytes JSON.stringify(manifest) has in UTF-8; past `upTo`, some figure over it, without
 * making the rest (whether a manifest fits in one request: at a million entries, a whole pass).
 */
export function manifestJsonBytes(manifest: Manifest, upTo = Infinity): number {
  let length = 0;
  for (const piece of manifestPieces(manifest)) {
    length += Buffer.byteLength(piece);
    if (length > upTo) break;
  }
  return length;
}

/** JSON.stringify(manifest) as UTF-8 bytes, without the whole text as one string. */
export function manifestJson(manifest: Manifest): Buffer {
  const length = manifestJsonBytes(manifest);
  const bytes = Buffer.allocUnsafe(length);
  let at = 0;
  for (const piece of manifestPieces(manifest)) at += bytes.write(piece, at);
  if (at !== length) throw new Error(`the manifest's JSON came out ${at} bytes, measured ${length}`);
  return bytes;
}

/**
 * The same bytes in parts of `partBytes` (the last one shorter), each made as it is asked for, all
 * in one buffer: a part is good until the next one is asked for (the store uploads each before it
 * asks). A buffer of its own for each part left the collector up to four of 16 MiB at a time in a
 * million-file snapshot.
 */
export function* manifestJsonParts(manifest: Manifest, partBytes: number): Generator<Buffer> {
  const part = Buffer.allocUnsafe(partBytes);
  let filled = 0;
  for (const piece of manifestPieces(manifest)) {
    if (Buffer.byteLength(piece) <= partBytes - filled) {
      filled += part.write(piece, filled);
    } else {
      // Encoded whole first: a character's bytes may straddle two parts.
      const bytes = Buffer.from(piece);
      for (let taken = 0; taken < bytes.length;) {
        const copied = bytes.copy(part, filled, taken);
        taken += copied;
        filled += copied;
        if (filled === partBytes) {
          yield part;
          filled = 0;
        }
      }
    }
    if (filled === partBytes) {
      yield part;
      filled = 0;
    }
  }
  if (filled > 0) yield part.subarray(0, filled);
}
