// The flags Node runs `dumont` with: bin/dumont.ts's first line (a unit test holds the two alike),
// the watch's systemd unit, the journey's steps, the chaos suite's controllers, the memory benchmark
// (package.json's scripts give the one that matters for memory; tests that start `dumont` for its
// output alone give the first).
//   --disable-warning=ExperimentalWarning: type stripping's warning is noise on every command.
//   --max-semi-space-size=8: V8's young generation capped at 8 MiB per semi-space. Its default
//   grows to tens of MiB while a million-file manifest is read or a host listing is parsed, and
//   stays: restoring 300,000 files peaked at 406 MiB resident with it and 276 MiB without, for the
//   same CPU time (.prof measurements, session 21; issue 15's bound is 256 MiB at a million files).
//   --expose-gc: a full collection between the steps of a snapshot or a restore of many files
//   (collect-garbage.ts), instead of whenever V8 gets to it.
export const dumontNodeFlags = ["--disable-warning=ExperimentalWarning", "--max-semi-space-size=8", "--expose-gc"] as const;
