// A full collection between the steps of a snapshot or a restore of many files (issue 15: the
// controller under 256 MiB at a million). What one step leaves behind (the columns a scan's table
// outgrew, a listing of a million records parsed into strings, a parent's table once diffed) V8 keeps in
// its old generation, with the ArrayBuffers it holds, until its next full collection, which may come
// only once the next step has added its own peak: the same million-file snapshot peaked at 228 MiB
// in one run and 294 MiB in the next. A full collection here costs some tens of milliseconds.
// `dumont` runs with --expose-gc (node-flags.ts); where gc is not exposed (tests), this does nothing.

/** Collects what the step just done left, before the next starts. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
