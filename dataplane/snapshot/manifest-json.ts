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
const itemsPerPiece = 4096;

/** An array (or a table read from the store: its items are made one at a time). */
function* arrayPieces(items: Iterable<unknown>): Generator<string> {
  yield "[";
  let piece: string[] = [];
  let first = true;
  const flush = () => {
    const text = piece.join(",");
    piece = [];
    const wasFirst = first;
    first = false;
    return wasFirst ? text : `,${text}`;
  };
  for (const item of items) {
    // JSON.stringify's own rule for an array's items: what it cannot write is null.
    piece.push(JSON.stringify(item) ?? "null");
    if (piece.length === itemsPerPiece) yield flush();
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

/** How many bytes JSON.stringify(manifest) has in UTF-8. */
export function manifestJsonBytes(manifest: Manifest): number {
  let length = 0;
  for (const piece of manifestPieces(manifest)) length += Buffer.byteLength(piece);
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

/** The same bytes in parts of `partBytes` (the last one shorter), each made as it is asked for. */
export function* manifestJsonParts(manifest: Manifest, partBytes: number): Generator<Buffer> {
  let part = Buffer.allocUnsafe(partBytes);
  let filled = 0;
  for (const piece of manifestPieces(manifest)) {
    // Encoded whole first: a character's bytes may straddle two parts.
    const bytes = Buffer.from(piece);
    for (let taken = 0; taken < bytes.length;) {
      const copied = bytes.copy(part, filled, taken);
      taken += copied;
      filled += copied;
      if (filled === partBytes) {
        yield part;
        part = Buffer.allocUnsafe(partBytes);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield part.subarray(0, filled);
}
