// The standby's copies of /workspace, kept so that a sync can never damage the last complete one.
// Each sync fills a new folder (a generation) next to the current one, hard-linking what did not
// change; only once rsync has finished does the controller write the generation's record and swap
// the `current` link to it (a rename: atomic). A GPU that dies mid-sync leaves an unfinished folder
// that nothing reads (the next sync resumes into it), and `current` still names a complete copy.
//
//   ~/dumont-mirror/current -> gen-7        the last complete copy
//   ~/dumont-mirror/gen-7/                  its files
//   ~/dumont-mirror/gen-7.json              its record: stack, source instance, time, entries, bytes
//   ~/dumont-mirror/gen-8/                  a sync in progress, or one that was cut off
//
// These commands run over the controller's own SSH connection to the standby, as the mirror user
// (mirror-user.ts), never from a GPU host. Paths are relative to the mirror user's home.
import { UserError } from "../../lib/errors.ts";
import type { CommandRunner } from "../ssh/client.ts";
import { workspaceWalkMs } from "../ssh/command-bounds.ts";

/** The mirror's folder, relative to the mirror user's home (mirror-user.ts). */
export const mirrorRoot = "dumont-mirror";
/** The lock the standby's rsync holds while it writes the mirror (see MirrorPaths.lock). */
export const mirrorLock = `${mirrorRoot}/.sync.lock`;

export interface GenerationRecord {
  readonly format: "dumont-mirror/1";
  readonly stack: string;
  readonly generation: number;
  /** The GPU instance whose /workspace this is a copy of. */
  readonly sourceInstanceId: number;
  /** When the sync began: nothing written after this is guaranteed to be in the copy (the RPO). */
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Entries (files, folders, links) and bytes of files, as rsync counted them on the sender. */
  readonly entries: number;
  readonly bytes: number;
}

/** The user decides whether a workspace really lost most of its files (--allow-shrink). */
export class MirrorShrinkRefused extends UserError {
  readonly entriesBefore: number;
  readonly entriesAfter: number;
  constructor(entriesBefore: number, entriesAfter: number) {
    super(`the sync would shrink the standby's copy from ${entriesBefore} to ${entriesAfter} entries; refused, the previous copy is kept (if the workspace really lost most of its files, run \`dumont standby sync --allow-shrink\`)`);
    this.entriesBefore = entriesBefore;
    this.entriesAfter = entriesAfter;
  }
}

/** The folder of a generation, relative to the home folder, as rsync and the scanner take it. */
export function generationPath(generation: number): string {
  return `${mirrorRoot}/gen-${generation}/`;
}

/**
 * A sync that would leave less than half of a copy of more than `minimum` entries is almost always a
 * broken or replaced source (an empty new GPU, an unmounted disk), not a user's deletion.
 */
export function shrinksTooMuch(before: number, after: number, minimum = 20): boolean {
  return before > minimum && after < before / 2;
}

function parseRecord(text: string, stack: string): GenerationRecord | undefined {
  try {
    const record = JSON.parse(text) as GenerationRecord;
    if (record.format !== "dumont-mirror/1" || record.stack !== stack || !Number.isInteger(record.generation)) return undefined;
    return record;
  } catch {
    return undefined;
  }
}

/**
 * The last complete copy on this standby, or undefined when it has none (a new or recreated
 * standby, or one that holds another stack's copy).
 */
export async function currentGeneration(standby: CommandRunner, stack: string): Promise<GenerationRecord | undefined> {
  const result = await standby.run(["sh", "-c", 'cd "$1" 2>/dev/null || exit 0; t=$(readlink current) || exit 0; cat -- "$t.json" 2>/dev/null || true', "current", mirrorRoot], { timeoutMs: 30_000 });
  const record = result.stdout.trim() ? parseRecord(result.stdout, stack) : undefined;
  return record;
}

export interface StagedGeneration {
  readonly current?: GenerationRecord;
  readonly generation: number;
  /** Where rsync writes, relative to the home folder. */
  readonly destination: string;
  /** The current copy, relative to the destination, for --link-dest. */
  readonly linkDest?: string;
}

/**
 * Readies the next generation's folder: removes folders of neither the current nor the next
 * generation (older copies, abandoned syncs), keeps an unfinished next one for rsync to resume.
 */
export async function stageGeneration(standby: CommandRunner, stack: string): Promise<StagedGeneration> {
  const current = await currentGeneration(standby, stack);
  const generation = (current?.generation ?? 0) + 1;
  await standby.run(["sh", "-c", [
    'set -eu; mkdir -p "$1"; cd "$1"',
    'for d in gen-*; do case "$d" in "$2"|"$2.json"|"$3") ;; *) rm -rf -- "$d" ;; esac; done',
    'mkdir -p "$3"',
  ].join("\n"), "stage", mirrorRoot, current ? `gen-${current.generation}` : "-", `gen-${generation}`], { timeoutMs: workspaceWalkMs });
  return {
    current, generation, destination: generationPath(generation),
    ...(current && { linkDest: `../gen-${current.generation}/` }),
  };
}

/**
 * Makes a filled generation the current copy: its record first, then the `current` link swapped
 * by rename, then the previous copy removed — or, with `keepPrevious`, renamed to kept-gen-N and
 * left for a person (a copy of another GPU that the active one was not restored from may hold
 * data nothing else has). Refuses a generation that would shrink the copy.
 */
export async function commitGeneration(standby: CommandRunner, staged: StagedGeneration, record: GenerationRecord, options: { allowShrink?: boolean; keepPrevious?: boolean } = {}): Promise<void> {
  if (staged.current && !options.allowShrink && shrinksTooMuch(staged.current.entries, record.entries)) {
    throw new MirrorShrinkRefused(staged.current.entries, record.entries);
  }
  await standby.run(["sh", "-c", [
    'set -eu; cd "$1"; test -d "gen-$2"',
    'cat > "gen-$2.json.tmp"; mv -f "gen-$2.json.tmp" "gen-$2.json"',
    'ln -sfn "gen-$2" current.tmp; mv -Tf current.tmp current; sync .',
    'if [ "$3" != "-" ] && [ "$4" = keep ]; then mv -f -- "gen-$3" "kept-gen-$3"; mv -f -- "gen-$3.json" "kept-gen-$3.json";',
    'elif [ "$3" != "-" ]; then rm -rf -- "gen-$3" "gen-$3.json"; fi',
  ].join("\n"), "commit", mirrorRoot, String(record.generation), staged.current ? String(staged.current.generation) : "-", options.keepPrevious ? "keep" : "drop"], {
    stdin: `${JSON.stringify(record)}\n`, timeoutMs: workspaceWalkMs,
  });
}
