// The flags and environment Node runs `dumont` with: bin/dumont.ts's first line and package.json's
// scripts (unit tests hold them alike), the watch's systemd unit, the journey's steps, the chaos
// suite's controllers, the memory benchmark (tests that start `dumont` for its output alone give
// the flags, or only the first).
//   --disable-warning=ExperimentalWarning: type stripping's warning is noise on every command.
//   --max-semi-space-size=8: V8's young generation capped at 8 MiB per semi-space. Its default
//   grows to tens of MiB while a million-file manifest is read or a host listing is parsed, and
//   stays: restoring 300,000 files peaked at 406 MiB resident with it and 276 MiB without, for the
//   same CPU time (.prof measurements, session 21; issue 15's bound is 256 MiB at a million files).
//   --expose-gc: a full collection between the steps of a snapshot or a restore of many files
//   (collect-garbage.ts), instead of whenever V8 gets to it.
export const dumontNodeFlags = ["--disable-warning=ExperimentalWarning", "--max-semi-space-size=8", "--expose-gc"] as const;

// MALLOC_MMAP_THRESHOLD_=131072: glibc's malloc gives every block of 128 KiB or more its own
// mapping, returned to the system when the block is freed. By default the threshold rises to the
// size of the largest mapped block freed (up to 32 MiB): once a table's column has grown (a copy at
// twice the size, the old one freed), later columns come from malloc's heap, and what is freed
// there stays resident. A million-entry scan peaked at 182 MiB without it and 168 with it, a
// million-entry manifest's read at 202 and 179, an incremental snapshot of a million files at
// 258–274 and 241 (.prof measurements, session 23). Other C libraries ignore it.
export const dumontNodeEnvironment = { MALLOC_MMAP_THRESHOLD_: "131072" } as const;

/** The environment's settings as `NAME=value` words, for a shebang's `env -S` or a shell script. */
export const dumontNodeEnvironmentWords = Object.entries(dumontNodeEnvironment).map(([name, value]) => `${name}=${value}`);
