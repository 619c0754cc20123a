// Looking for secrets where they must not be: in files (byte for byte, any size, binary or not) and
// in the arguments of every process on the machine, which any user can read with `ps` — local-cloud
// hosts share the machine's process table, so their processes are seen too. What is found is
// reported with the secret replaced by its name: a leak report must not leak again.
import { execFile } from "node:child_process";
import { createReadStream, lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface Secret {
  /** What it is, for reports ("the Vast API key"). */
  readonly name: string;
  readonly value: string;
}

/** `text` with every secret replaced by its name, cut to `max` characters. */
export function redacted(text: string, secrets: readonly Secret[], max = 160): string {
  let out = text;
  for (const s of secrets) out = out.replaceAll(s.value, `<${s.name}>`);
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

/** The secrets `text` holds. */
export function secretsIn(text: string, secrets: readonly Secret[]): Secret[] {
  return secrets.filter((s) => text.includes(s.value));
}

export interface FileFinding {
  readonly file: string;
  readonly secret: string;
}

export interface FileSearch {
  readonly findings: FileFinding[];
  readonly files: number;
  readonly bytes: number;
}

/**
 * Every regular file under `roots` (or a root that is a file), symlinks not followed, except under
 * `excluded` paths. Files that vanish while the search runs are skipped.
 */
export function filesUnder(roots: readonly string[], excluded: readonly string[]): string[] {
  const skip = (p: string) => excluded.some((e) => p === e || p.startsWith(`${e}${path.sep}`));
  const found = new Set<string>();
  const walk = (p: string) => {
    if (skip(p)) return;
    let stat;
    try {
      stat = lstatSync(p);
    } catch {
      return;
    }
    if (stat.isFile()) found.add(p);
    if (!stat.isDirectory()) return;
    let entries: string[];
    try {
      entries = readdirSync(p);
    } catch {
      return;
    }
    for (const e of entries) walk(path.join(p, e));
  };
  for (const root of roots) walk(path.resolve(root));
  return [...found].sort();
}

/** Which secrets the file holds, read in chunks that overlap by the longest secret (a secret across two chunks is found). */
async function secretsInFile(file: string, secrets: readonly Secret[]): Promise<Secret[]> {
  if (secrets.length === 0) return [];
  const needles = secrets.map((s) => ({ secret: s, bytes: Buffer.from(s.value, "utf8") }));
  const overlap = Math.max(...needles.map((n) => n.bytes.length)) - 1;
  const found = new Set<Secret>();
  let tail = Buffer.alloc(0);
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) {
      const window = Buffer.concat([tail, chunk as Buffer]);
      for (const n of needles) if (!found.has(n.secret) && window.includes(n.bytes)) found.add(n.secret);
      tail = window.subarray(Math.max(0, window.length - overlap));
    }
  } catch {
    // gone or unreadable meanwhile: nothing Dumont left there to find
  }
  return [...found];
}

export async function searchFiles(files: readonly string[], secrets: readonly Secret[]): Promise<FileSearch> {
  const findings: FileFinding[] = [];
  let bytes = 0;
  for (const file of files) {
    try {
      bytes += lstatSync(file).size;
    } catch {
      continue;
    }
    for (const s of await secretsInFile(file, secrets)) findings.push({ file, secret: s.name });
  }
  return { findings, files: files.length, bytes };
}

/**
 * Lists every process's arguments (`ps -eww -o args=`) every `intervalMs` until stopped, keeping
 * each distinct line once. A process that lives shorter than the interval may be missed; what the
 * scenario runs keeps its transfers long enough to be seen.
 */
export class ProcessArgumentsWatch {
  private readonly lines = new Set<string>();
  private stopped = false;
  private loop?: Promise<void>;
  polls = 0;
  failures = 0;
  readonly intervalMs: number;

  constructor(intervalMs = 200) {
    this.intervalMs = intervalMs;
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          for (const line of (await listArguments()).split("\n")) if (line.trim()) this.lines.add(line);
          this.polls++;
        } catch {
          this.failures++;
        }
        await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** Every distinct command line seen that `matches`. */
  seen(matches: (line: string) => boolean): string[] {
    return [...this.lines].filter(matches);
  }

  get distinctLines(): number {
    return this.lines.size;
  }
}

function listArguments(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("ps", ["-eww", "-o", "args="], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 10_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout));
  });
}
