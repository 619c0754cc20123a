// One link's restore on the host: restoreArchiveScript, started with the archive's URL, and the
// MD5s it sends of the files it extracted, parsed as they come.
import type { RunResult, SshConnection } from "../ssh/client.ts";
import { bulkTransferMs, workspaceListingBytes } from "../ssh/command-bounds.ts";
import { Md5Parser } from "./host-listings.ts";
import { listsFolder } from "./link-lists.ts";
import { restoreArchiveScript } from "./scripts.ts";

/** One link's restoreArchiveScript on the host, and the MD5s it sends of the files it extracted. */
export class LinkRun {
  readonly running: Promise<RunResult>;
  /** The script has ended (or its command failed): a turn given now would be given to nobody. */
  ended = false;
  private readonly sums: Md5Parser;
  private refused: Error | undefined;

  constructor(ssh: SshConnection, args: { spool: string; index: number; url: string; pack?: string; hashAsExtracted: boolean; signal?: AbortSignal }, onSum: (path: string, md5: string) => void) {
    this.sums = new Md5Parser(onSum);
    const place = args.index === 0 ? "first" : "later";
    this.running = ssh.run(["bash", "-c", restoreArchiveScript(), "restore", args.spool, place, listsFolder(args.index), args.pack ?? "", args.hashAsExtracted ? "yes" : "no"], {
      // A later link starts while the link before it runs, and waits for its turn (at most
      // bulkTransferMs, the script's own bound, so it gives up before its command is cut off).
      stdin: `${args.url}\n`, allowFailure: true, timeoutMs: place === "first" ? bulkTransferMs : 2 * bulkTransferMs, signal: args.signal, onStdout: this.take, maxStdoutBytes: workspaceListingBytes,
    });
    this.running.then(() => (this.ended = true), () => (this.ended = true));
  }

  // Sums that do not parse are not used (the verification hashes those files from the disk), and
  // the script is never stopped for them, so its own checks and exit status still count.
  private readonly take = (chunk: Buffer): void => {
    if (this.refused) return;
    try {
      this.sums.push(chunk);
    } catch (error) {
      this.refused = error as Error;
    }
  };

  /** Once the script ended well: why its sums are not used, or undefined when they are. */
  sumsProblem(): Error | undefined {
    if (!this.refused) {
      try {
        this.sums.done();
      } catch (error) {
        this.refused = error as Error;
      }
    }
    return this.refused;
  }
}

