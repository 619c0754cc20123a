// The GPU host's side of a snapshot upload, driven from the controller: one long-running command
// (scripts.ts: uploadScript) streams rounds of archive members | lz4 straight into a multipart
// upload through presigned part URLs, while the controller hands it each round's list, appends URLs
// when the stream outgrows them, and hears what the reader said about each round and the MD5s it
// made. Files reach the host on stdin or in its spool folder, never on a command line.
import type { Readable } from "node:stream";
import { DumontError } from "../../lib/errors.ts";
import { sanitizeHostLine } from "../ssh/sanitize.ts";
import type { SshConnection } from "../ssh/client.ts";
import { bulkTransferMs, quickCommandMs, sendingMs, workspaceListingBytes, workspaceWalkMs } from "../ssh/command-bounds.ts";
import type { Entry } from "./manifest.ts";
import { Md5Parser, ScanParser } from "./host-listings.ts";
import { hostPathStream } from "./path-bytes.ts";
import { uploadScript } from "./scripts.ts";
import type { SnapshotStore } from "./store.ts";

/** S3 and B2 allow at most this many parts in one upload. */
export const maxParts = 10_000;

/** URLs presigned at a time: the host is never more than a batch ahead of what it may write. */
export function presignBatch(concurrency: number): number {
  return Math.max(8, 4 * concurrency);
}

export interface RoundRead {
  /** The reader's exit status, as tar's: 0, 1 when a file changed as it was read, 2 when something failed. */
  readonly status: number;
  /** Its messages, one per line, worded as GNU tar's. */
  readonly notes: readonly string[];
}

export interface Uploaded {
  readonly bytes: number;
  readonly parts: Array<{ part: number; etag: string; bytes: number }>;
}

export interface HostUploadOptions {
  readonly ssh: SshConnection;
  readonly store: SnapshotStore;
  readonly id: string;
  readonly uploadId: string;
  /** A folder on the host for the parts in flight and the lists; the caller removes it. */
  readonly spool: string;
  readonly partSize: number;
  /** Parts to presign up front: the planned size of the archive. */
  readonly parts: number;
  readonly concurrency: number;
  /** The paths of the first round. */
  readonly firstRound: Iterable<string>;
  /** dumont-pack's path on the host (pack-helper.ts). */
  readonly pack: string;
  readonly progress: (line: string) => void;
}

interface Waiting<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function waiting<T>(): Waiting<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  promise.catch(() => undefined); // a round nobody waits for must not be an unhandled rejection
  return { promise, resolve, reject };
}

export class HostUpload {
  private readonly options: HostUploadOptions;
  private readonly roundsRead = new Map<number, Waiting<RoundRead>>();
  private readonly roundNotes = new Map<number, string[]>();
  private presigned: number;
  private urlSupply: Promise<void> = Promise.resolve();
  private supplyFailure: Error | undefined;
  /** Why the host's upload failed, as it said the moment it did ("upload-failed"). */
  private hostFailure: Error | undefined;
  private ended: Error | undefined;
  private readonly run: Promise<Uploaded>;

  private constructor(options: HostUploadOptions) {
    this.options = options;
    this.presigned = Math.min(Math.max(1, options.parts), presignBatch(options.concurrency));
    const { ssh, spool, partSize, concurrency, pack } = options;
    this.run = ssh.run(["bash", "-c", uploadScript(), "upload", spool, String(partSize), String(concurrency), pack], {
      onStderrLine: (line) => this.heard(line), timeoutMs: bulkTransferMs,
    }).then((result) => this.report(result.stdout), (error: Error) => {
      throw this.supplyFailure ?? this.hostFailure ?? error;
    });
    this.run.then(
      () => this.end(new DumontError(`the upload on ${ssh.label} ended before all rounds were read`)),
      (error: Error) => this.end(error),
    );
  }

  /** Presigns the first batch of parts, hands the host its URLs and first list, and starts the upload. */
  static async start(options: HostUploadOptions): Promise<HostUpload> {
    const { ssh, store, id, uploadId, spool, parts, concurrency } = options;
    const urls = await store.presignParts(id, uploadId, Math.min(Math.max(1, parts), presignBatch(concurrency)));
    await ssh.run(["bash", "-c", 'umask 077 && mkdir -p "$1"', "prepare", spool], { timeoutMs: quickCommandMs });
    await writeSpoolFile(ssh, spool, "urls", `${urls.join("\n")}\n`);
    await writeSpoolList(ssh, spool, "round1", options.firstRound);
    return new HostUpload(options);
  }

  /** What tar said about round n, once the host has read it. */
  roundRead(round: number): Promise<RoundRead> {
    return this.waitingFor(round).promise;
  }

  /**
   * The MD5 of every file round n archived, of exactly the bytes archived, each handed to `onSum` as
   * it arrives (call once the round has been read). Host-made like everything else: a wrong one
   * fails the restore's verification.
   */
  async roundSums(round: number, onSum: (path: string, md5: string) => void): Promise<void> {
    const parser = new Md5Parser(onSum);
    await this.readSpoolFile(`sums${round}`, parser.push);
    parser.done();
  }

  /**
   * Every entry round n archived, as the reader saw it when it read it, each handed to `onEntry` as
   * it arrives (call once the round has been read); one it could not read, or that was gone, is not
   * there.
   */
  async roundSeen(round: number, onEntry: (entry: Entry) => void): Promise<void> {
    const parser = new ScanParser(onEntry);
    await this.readSpoolFile(`seen${round}`, parser.push);
    parser.done();
  }

  /** Hands a spool file's bytes to a parser as they arrive. */
  private async readSpoolFile(name: string, onStdout: (chunk: Buffer) => void): Promise<void> {
    await this.options.ssh.run(["cat", "--", `${this.options.spool}/${name}`], {
      onStdout, timeoutMs: workspaceWalkMs, maxStdoutBytes: workspaceListingBytes,
    });
  }

  /** Starts round n, which reads these paths again and appends them to the archive. */
  async startRound(round: number, paths: readonly string[]): Promise<void> {
    if (this.hostFailure) throw this.hostFailure;
    await writeSpoolList(this.options.ssh, this.options.spool, `round${round}`, paths);
  }

  /** Says no round follows and waits for the upload to finish: every part stored. */
  async finish(): Promise<Uploaded> {
    if (this.hostFailure) throw this.hostFailure;
    await writeSpoolFile(this.options.ssh, this.options.spool, "last", "");
    return this.run;
  }

  /** Stops the host's side and waits (a while) for it to end, so the spool can be removed under it. */
  async abandon(): Promise<void> {
    await writeSpoolFile(this.options.ssh, this.options.spool, "abort", "").catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const patience = new Promise((resolve) => (timer = setTimeout(resolve, 60_000)));
    await Promise.race([this.run.catch(() => undefined), patience]);
    clearTimeout(timer);
  }

  private waitingFor(round: number): Waiting<RoundRead> {
    let entry = this.roundsRead.get(round);
    if (!entry) {
      entry = waiting<RoundRead>();
      if (this.ended) entry.reject(this.ended);
      this.roundsRead.set(round, entry);
    }
    return entry;
  }

  private end(error: Error): void {
    this.ended = error;
    for (const entry of this.roundsRead.values()) entry.reject(error);
  }

  private heard(line: string): void {
    let match: RegExpExecArray | null;
    if ((match = /^progress (\d+)$/.exec(line))) {
      const done = Number(match[1]);
      this.options.progress(`  ${done} part(s) uploaded`);
      // The next batch of planned parts is presigned while the host still has URLs to work on.
      if (this.presigned < this.options.parts && this.presigned - done <= 2 * this.options.concurrency) this.supplyUrls(this.presigned + 1);
    }
    else if ((match = /^need-urls (\d+)$/.exec(line))) this.supplyUrls(Number(match[1]));
    else if ((match = /^upload-failed (.*)$/.exec(line))) {
      // The host stops reading the stream at once, so the round it was reading ends on a broken
      // pipe: every round waited for fails with this reason instead.
      this.hostFailure ??= new DumontError(`the upload from ${this.options.ssh.label} failed: ${sanitizeHostLine(match[1]!)}`);
      this.end(this.hostFailure);
    }
    else if ((match = /^round-note (\d+) (.*)$/.exec(line))) {
      const round = Number(match[1]);
      this.roundNotes.set(round, [...(this.roundNotes.get(round) ?? []), match[2]!]);
    } else if ((match = /^round-read (\d+) (\d+)$/.exec(line))) {
      const round = Number(match[1]);
      this.waitingFor(round).resolve({ status: Number(match[2]), notes: this.roundNotes.get(round) ?? [] });
    }
  }

  /**
   * More presigned URLs from part `part` on, appended for the host's part script: the next batch of
   * the plan (asked for ahead, as parts finish), or parts past it, which the host waits for (later
   * rounds and files that grew make the stream longer than planned). A batch at a time, so a long
   * archive neither holds URLs for hours nor costs a round trip per part.
   */
  private supplyUrls(part: number): void {
    const { ssh, store, id, uploadId, spool, concurrency, partSize } = this.options;
    this.urlSupply = this.urlSupply.then(async () => {
      if (part <= this.presigned || this.supplyFailure) return;
      try {
        if (part > maxParts) throw new DumontError(`the archive needs more than ${maxParts} parts of ${partSize} bytes`);
        const planned = part <= this.options.parts;
        const upTo = Math.min(maxParts, planned ? Math.max(part - 1 + presignBatch(concurrency), this.presigned) : part + 2 * concurrency);
        if (!planned) this.options.progress(`  the archive outgrew its plan: presigning parts ${this.presigned + 1}-${upTo}`);
        const urls = await store.presignParts(id, uploadId, upTo - this.presigned, this.presigned + 1);
        await ssh.run(["bash", "-c", 'cat "$1/urls" - > "$1/urls.next" && mv "$1/urls.next" "$1/urls"', "urls", spool], { stdin: `${urls.join("\n")}\n`, timeoutMs: quickCommandMs });
        this.presigned = upTo;
      } catch (error) {
        this.supplyFailure = error as Error;
        // The host stops at once on the abort, so the round it was reading ends on a broken pipe:
        // every round waited for fails with this reason instead.
        this.end(this.supplyFailure);
        await writeSpoolFile(ssh, spool, "abort", "").catch(() => undefined);
      }
    });
  }

  /** The host's report: "part <n> <etag> <bytes>" per part, in order. */
  private report(stdout: string): Uploaded {
    const lines = stdout.trim().split("\n").filter(Boolean);
    const parts = lines.map((line) => {
      const match = /^part (\d+) (\S+) (\d+)$/.exec(line);
      if (!match) throw new DumontError(`unexpected part report from ${this.options.ssh.label}: ${sanitizeHostLine(line)}`);
      return { part: Number(match[1]), etag: match[2]!, bytes: Number(match[3]) };
    });
    return { bytes: checkPartSequence(parts, this.options.partSize, this.options.ssh.label), parts };
  }
}

/**
 * The archive's size, once its parts are known to be whole: every part from the first, none twice,
 * each of exactly `partSize` bytes but the last (1 to `partSize`). dumont-pack upload cuts the
 * stream so; a part short of it lost bytes on the host, and would complete an archive with a hole.
 */
export function checkPartSequence(parts: ReadonlyArray<{ part: number; bytes: number }>, partSize: number, host: string): number {
  const wrong = parts.findIndex((p, i) => p.part !== i + 1 || p.bytes > partSize || p.bytes < 1 || (i < parts.length - 1 && p.bytes !== partSize));
  if (parts.length === 0 || wrong >= 0) {
    const at = parts[wrong];
    throw new DumontError(at
      ? `the upload from ${host} is not whole: part ${at.part} (listed ${wrong + 1}) has ${at.bytes} bytes, parts are ${partSize}`
      : `the upload from ${host} reported no parts`);
  }
  return parts.reduce((sum, p) => sum + p.bytes, 0);
}

/** Writes a file into the spool all at once (a temporary name, then a rename): the host polls for it. */
function writeSpoolFile(ssh: SshConnection, spool: string, name: string, content: string | Buffer | Readable, bytes = Buffer.byteLength(content as string | Buffer)): Promise<unknown> {
  return ssh.run(["bash", "-c", 'cat > "$1/.$2" && mv "$1/.$2" "$1/$2"', "spool", spool, name], { stdin: content, timeoutMs: sendingMs(bytes) });
}

/** A round's list of paths, sent a slice at a time (a million paths are never one buffer here). */
function writeSpoolList(ssh: SshConnection, spool: string, name: string, paths: Iterable<string>): Promise<unknown> {
  // At most three bytes per UTF-16 unit, "./" and the NUL: a bound on what is sent, for its time limit.
  let bytes = 0;
  for (const path of paths) bytes += 3 * path.length + 3;
  return writeSpoolFile(ssh, spool, name, hostPathStream(paths), bytes);
}
