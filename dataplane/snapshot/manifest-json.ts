// A manifest as the JSON bytes the store keeps, written straight into one buffer. JSON.stringify of
// the whole manifest makes a string as large as the bytes (about 170 MB at a million files), and
// the request then holds both: here its per-file arrays are serialized a few thousand items at a
// time, measured in a first pass and written in a second, so only the bytes are ever whole.
// The bytes are exactly JSON.stringify's (same keys, same order): readers see no difference.
import { randomUUID } from "node:crypto";
import type { Manifest } from "./manifest.ts";

/** The fields that grow with the file count. */
const perFileFields = ["entries", "included", "deleted", "discarded"] as const;
const itemsPerPiece = 4096;

function* arrayPieces(items: readonly unknown[]): Generator<string> {
  yield "[";
  for (let i = 0; i < items.length; i += itemsPerPiece) {
    const piece = items.slice(i, i + itemsPerPiece).map((item) => JSON.stringify(item)).join(",");
    yield i === 0 ? piece : `,${piece}`;
  }
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

/** JSON.stringify(manifest) as UTF-8 bytes, without the whole text as one string. */
export function manifestJson(manifest: Manifest): Buffer {
  let length = 0;
  for (const piece of manifestPieces(manifest)) length += Buffer.byteLength(piece);
  const bytes = Buffer.allocUnsafe(length);
  let at = 0;
  for (const piece of manifestPieces(manifest)) at += bytes.write(piece, at);
  if (at !== length) throw new Error(`the manifest's JSON came out ${at} bytes, measured ${length}`);
  return bytes;
}
