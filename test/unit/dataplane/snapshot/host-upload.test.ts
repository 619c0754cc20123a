import { describe, expect, it } from "vitest";
import { checkPartSequence, HostUpload } from "../../../../dataplane/snapshot/host-upload.ts";
import type { SnapshotStore } from "../../../../dataplane/snapshot/store.ts";
import type { SshConnection } from "../../../../dataplane/ssh/client.ts";

describe("the parts a host reports uploaded", () => {
  const parts = (...sizes: number[]) => sizes.map((bytes, i) => ({ part: i + 1, bytes }));

  it("add up to the archive when every part but the last is whole", () => {
    expect(checkPartSequence(parts(10, 10, 3), 10, "gpu")).toBe(23);
    expect(checkPartSequence(parts(10), 10, "gpu")).toBe(10);
  });

  it("are refused when one before the last is short: bytes were lost on the host (a full disk)", () => {
    expect(() => checkPartSequence(parts(10, 4, 10, 2), 10, "gpu")).toThrow("the upload from gpu is not whole: part 2 (listed 2) has 4 bytes, parts are 10");
  });

  it("are refused when one is missing, repeated, empty or too large", () => {
    expect(() => checkPartSequence([{ part: 1, bytes: 10 }, { part: 3, bytes: 2 }], 10, "gpu")).toThrow("part 3 (listed 2)");
    expect(() => checkPartSequence([{ part: 1, bytes: 10 }, { part: 1, bytes: 10 }], 10, "gpu")).toThrow("part 1 (listed 2)");
    expect(() => checkPartSequence(parts(10, 0), 10, "gpu")).toThrow("part 2 (listed 2) has 0 bytes");
    expect(() => checkPartSequence(parts(11), 10, "gpu")).toThrow("part 1 (listed 1) has 11 bytes");
    expect(() => checkPartSequence([], 10, "gpu")).toThrow("the upload from gpu reported no parts");
  });
});

/**
 * A host whose upload command says `lines` on stderr and then fails (exit 4) once `end` is
 * called; every other command (the spool's files) succeeds.
 */
function failingHost(lines: string[]) {
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  const written: string[] = [];
  const ssh = {
    label: "gpu",
    run: async (argv: string[], options: { onStderrLine?: (line: string) => void } = {}) => {
      if (argv[3] === "upload") {
        await Promise.resolve();
        for (const line of lines) options.onStderrLine?.(line);
        await ended;
        throw new Error("remote command failed (exit 4)");
      }
      if (argv[3] === "spool") written.push(argv[5]!);
      return { stdout: "", stderr: "", code: 0 };
    },
  } as unknown as SshConnection;
  return { ssh, end, written };
}

function start(ssh: SshConnection, store: Partial<SnapshotStore>) {
  return HostUpload.start({
    ssh, store: store as SnapshotStore, id: "s", uploadId: "u", spool: "/tmp/spool", partSize: 8, parts: 100, concurrency: 1,
    firstRound: ["a"], pack: "/pack", progress: () => {},
  });
}

describe("an upload the host or the controller stops", () => {
  const store = { presignParts: async (_id: string, _upload: string, count: number) => Array.from({ length: count }, (_, i) => `https://store/p${i}`) };

  it("fails every round waited for, and the finish, with the reason the host gave the moment a part failed", async () => {
    const host = failingHost(["progress 2", "upload-failed part 3 upload failed: stalled: less than 30720 bytes moved in 30s (try 5)"]);
    const upload = await start(host.ssh, store);
    await expect(upload.roundRead(1)).rejects.toThrow("the upload from gpu failed: part 3 upload failed: stalled");
    await expect(upload.startRound(2, ["b"])).rejects.toThrow("part 3 upload failed");
    await expect(upload.finish()).rejects.toThrow("part 3 upload failed");
    expect(host.written).not.toContain("round2");
    host.end();
  });

  it("fails every round waited for with the reason the controller could not supply more URLs", async () => {
    let calls = 0;
    const refusing = { presignParts: async (id: string, upload: string, count: number) => {
      if (++calls > 1) throw new Error("presigning failed: the store refused");
      return store.presignParts(id, upload, count);
    } };
    const host = failingHost(["need-urls 40"]);
    const upload = await start(host.ssh, refusing);
    await expect(upload.roundRead(1)).rejects.toThrow("presigning failed: the store refused");
    expect(host.written).toContain("abort");
    host.end();
  });
});
