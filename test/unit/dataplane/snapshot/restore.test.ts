// A restore refuses another stack's snapshot, or a chain with one in it, before it touches the
// host; a snapshot from before manifests named a stack is restored; the MD5s made as a chain's
// archives are extracted count only as long as no later link rewrote the file.
import { describe, expect, it } from "vitest";
import type { Readable } from "node:stream";
import type { Entry, Manifest } from "../../../../dataplane/snapshot/manifest.ts";
import { expectedStagedPaths, largeFileFields, touchTime } from "../../../../dataplane/snapshot/link-lists.ts";
import { restoreSnapshot } from "../../../../dataplane/snapshot/restore.ts";
import { ForeignSnapshotError } from "../../../../dataplane/snapshot/snapshot-owner.ts";
import type { SnapshotStore } from "../../../../dataplane/snapshot/store.ts";
import type { SshConnection } from "../../../../dataplane/ssh/client.ts";

const full = "20261122T130000000Z-base";
const incremental = "20261122T140000000Z-next";

function manifest(id: string, chain: string[], stack?: string): Manifest {
  return {
    format: "dumont-snapshot/1", id, name: id.slice(20), createdAt: "", kind: chain.length > 1 ? "incremental" : "full", parent: chain.at(-2) ?? null, chain,
    source: { host: "h" }, ...(stack !== undefined && { stack }), archive: { key: "k", bytes: 1, md5: "b".repeat(32), parts: 1, partSize: 1, compression: "lz4" },
    entries: [], included: [], deleted: [], stats: { files: 0, dirs: 0, symlinks: 0, bytes: 0 },
  };
}

/** A store of stack `stack` holding these manifests, and a host that must never be touched. */
function world(stack: string, manifests: Manifest[]) {
  const byId = new Map(manifests.map((m) => [m.id, m]));
  const store = { settings: { stack }, readManifest: async (id: string) => byId.get(id)! } as unknown as SnapshotStore;
  const commands: string[][] = [];
  const ssh = { label: "gpu", run: async (argv: string[]) => { commands.push(argv); throw new Error("the host was touched"); } } as unknown as SshConnection;
  return { store, ssh, commands };
}

describe("restoring another stack's snapshot", () => {
  it("a restore refuses another stack's snapshot before it touches the host", async () => {
    const { store, ssh, commands } = world("prod", [manifest(full, [full], "staging")]);
    await expect(restoreSnapshot({ ssh, store, id: full })).rejects.toThrow(ForeignSnapshotError);
    expect(commands).toEqual([]);
  });

  it("a restore refuses a chain with another stack's snapshot in it, naming that one", async () => {
    const { store, ssh, commands } = world("prod", [manifest(full, [full], "staging"), manifest(incremental, [full, incremental], "prod")]);
    await expect(restoreSnapshot({ ssh, store, id: incremental })).rejects.toThrow(`snapshot ${full} belongs to stack 'staging', not to stack 'prod'`);
    expect(commands).toEqual([]);
  });

  it("a restore goes ahead with a snapshot from before manifests named a stack", async () => {
    const { store, ssh, commands } = world("prod", [manifest(full, [full])]);
    // It gets as far as the host, which this test's host refuses; its spool there is removed.
    await expect(restoreSnapshot({ ssh, store, id: full })).rejects.toThrow("the host was touched");
    expect(commands.length).toBeGreaterThan(1);
    expect(commands.at(-1)).toEqual(["bash", "-c", expect.stringContaining("rm -rf"), "remove-spool", expect.stringMatching(/^\/tmp\/dumont-restore-[0-9a-f]{12}$/)]);
  });
});

describe("a link's restore that the host did not finish", () => {
  it("stops the chain: a killed restore (the OOM killer, a signal) is not taken for a damaged archive", async () => {
    const chain = [manifest(full, [full], "prod"), manifest(incremental, [full, incremental], "prod")];
    const byId = new Map(chain.map((m) => [m.id, m]));
    const store = { settings: { stack: "prod" }, readManifest: async (id: string) => byId.get(id)!, presignDownload: async () => "https://s3.example/x" } as unknown as SnapshotStore;
    const archiveRuns: string[] = [];
    const ssh = {
      label: "gpu",
      run: async (argv: string[]) => {
        if (argv[0] === "bash" && argv[3] === "restore") {
          archiveRuns.push(argv[5]!);
          return { code: 137, stdout: "", stderr: "Killed", stdoutBytes: Buffer.alloc(0) };
        }
        return { code: 0, stdout: "", stderr: "", stdoutBytes: Buffer.alloc(0) };
      },
    } as unknown as SshConnection;
    await expect(restoreSnapshot({ ssh, store, id: incremental })).rejects.toThrow(`restore of ${full} stopped: the host's restore of it ended with a signal (Killed)`);
    expect(archiveRuns).toEqual(["first"]);
  });
});

describe("a restore that starts on the first link before its manifests are checked", () => {
  it("starts no script once the manifests were refused, not even one whose start was under way, and removes its spool", async () => {
    const refused = { ...manifest(full, [full], "prod"), deleted: ["../outside"] };
    const store = {
      settings: { stack: "prod" },
      // The header arrives, and the start on the first link with it, before the manifest is whole.
      readManifest: async (_id: string, onHeader?: (header: Record<string, unknown>) => void) => {
        onHeader?.({ ...refused });
        await new Promise((resolve) => setTimeout(resolve, 10));
        return refused;
      },
      presignDownload: async () => "https://s3.example/x",
    } as unknown as SnapshotStore;
    // The host answers only once the refusal is in: the start was under way all along.
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const commands: string[][] = [];
    const ssh = {
      label: "gpu",
      run: async (argv: string[]) => {
        commands.push(argv);
        await answered;
        return { code: 0, stdout: "", stderr: "", stdoutBytes: Buffer.alloc(0) };
      },
    } as unknown as SshConnection;
    const restoring = restoreSnapshot({ ssh, store, id: full });
    restoring.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(commands.length).toBeGreaterThan(0);
    answer();
    await expect(restoring).rejects.toThrow(`snapshot ${full} cannot be restored safely: deleted path "../outside" has a '..' component`);
    expect(commands.filter((argv) => argv[3] === "restore")).toEqual([]);
    expect(commands.at(-1)).toEqual(["bash", "-c", expect.stringContaining("rm -rf"), "remove-spool", expect.stringMatching(/^\/tmp\/dumont-restore-[0-9a-f]{12}$/)]);
  });
});

describe("what a staged archive may hold", () => {
  const entry = (path: string, type: "file" | "dir" | "symlink") => ({ path, type, size: 0, mode: 0o644, mtime: "1" });
  it("is each member as its manifest types it and every folder above the members as a folder, each once", () => {
    const link = {
      entries: [entry("a", "dir"), entry("a/b", "dir"), entry("a/b/c.txt", "file"), entry("a/b/d.txt", "file"), entry("top", "symlink")],
      included: ["a/b/c.txt", "a/b/d.txt", "top"],
    };
    expect([...expectedStagedPaths(link)].sort()).toEqual(["d ./a", "d ./a/b", "f ./a/b/c.txt", "f ./a/b/d.txt", "l ./top"]);
  });

  it("a folder the manifest includes is a folder, never a symlink, also when it is a parent", () => {
    const link = { entries: [entry("d", "dir"), entry("d/y", "dir")], included: ["d", "d/y"] };
    expect([...expectedStagedPaths(link)].sort()).toEqual(["d ./d", "d ./d/y"]);
  });

  it("a member that vanished while the snapshot was made may be of any type; its parents are folders", () => {
    const link = { entries: [entry("keep", "file")], included: ["keep"], discarded: ["gone/tmp"] };
    expect([...expectedStagedPaths(link)].sort()).toEqual(["d ./gone", "d ./gone/tmp", "f ./gone/tmp", "f ./keep", "l ./gone/tmp"]);
  });
});

describe("the large files a link's archive holds, for a host without the helper", () => {
  const sized = (path: string, size: number, mode = 0o644, mtime = "1700000000.5000000000"): Entry => ({ path, type: "file", size, mode, mtime });
  it("lists each large file it includes with its mode and time, none smaller nor left out, nor a folder", () => {
    const link = {
      entries: [sized("small", 256 * 1024), sized("big", 256 * 1024 + 1, 0o4750, "1.0000000000"), sized("unchanged", 1e9), { ...sized("folder", 1e9), type: "dir" as const }, sized("other big", 5e6, 0o600)],
      included: ["small", "big", "folder", "other big", "vanished"],
    };
    expect([...largeFileFields(link)]).toEqual(["4750", "1.0000000000", "1.0000000000", "big", "600", "1700000000.5000000000", "1700000000.5000000000", "other big"]);
    // A mode or a time that is none (a manifest Dumont did not write) is left out: the verification names it.
    expect([...largeFileFields({ entries: [sized("odd mode", 1e6, 0o10000), sized("odd time", 1e6, 0o644, "soon"), sized("early", 1e6, 0o644, "-2.5000000000")], included: ["odd mode", "odd time", "early"] })])
      .toEqual(["644", "-2.5000000000", "-1.500000000", "early"]);
  });

  it("gives touch a time before 1970 as the time it is, not as find prints it", () => {
    // find's %T@ rounds the seconds down: "-2.5000000000" is -2 s + 0.5 s.
    expect(["-2.5000000000", "-1.2500000000", "-3.0000000000", "-1.9999999990", "5.5000000000"].map(touchTime))
      .toEqual(["-1.500000000", "-0.750000000", "-3.0000000000", "-0.000000001", "5.5000000000"]);
  });
});

describe("the MD5s made as a chain's archives are extracted", () => {
  const sum = (c: string) => c.repeat(32);
  const file = (path: string, md5: string): Entry => ({ path, type: "file", size: 1, mode: 0o644, mtime: "1700000000.0000000000", md5 });
  const tree = [file("kept", sum("a")), file("rewritten", sum("c"))];
  const chain = [
    { ...manifest(full, [full], "prod"), entries: [file("kept", sum("a")), file("rewritten", sum("b"))], included: ["kept", "rewritten"] },
    { ...manifest(incremental, [full, incremental], "prod"), entries: tree, included: ["rewritten"] },
  ];

  /**
   * A host whose restore of each link prints the sums given for it (exit 0), and whose tree is
   * `tree`, with each file's MD5 as `tree` says: returns the files the verification had it hash.
   */
  async function restoreWith(sumsByPlace: Record<string, string>): Promise<string[]> {
    const byId = new Map(chain.map((m) => [m.id, m]));
    const store = { settings: { stack: "prod" }, readManifest: async (id: string) => byId.get(id)!, presignDownload: async () => "https://s3.example/x" } as unknown as SnapshotStore;
    const hashed: string[] = [];
    const ok = (stdout = "") => ({ code: 0, stdout, stderr: "", stdoutBytes: Buffer.from(stdout) });
    // As the host's script does: a later link sends its sums once its turn is given.
    let turnGiven!: () => void;
    const turn = new Promise<void>((resolve) => (turnGiven = resolve));
    const ssh = {
      label: "gpu",
      run: async (argv: string[], options: { stdin?: string | Buffer | Readable; onStdout?: (chunk: Buffer) => void } = {}) => {
        const input = options.stdin;
        const chunks: Buffer[] = [];
        if (input === undefined || typeof input === "string" || Buffer.isBuffer(input)) chunks.push(Buffer.from(input ?? ""));
        else for await (const chunk of input) chunks.push(Buffer.from(chunk as string | Buffer));
        const stdin = Buffer.concat(chunks);
        if (argv[3] === "find-pack") return ok("/opt/dumont-pack\n");
        if (argv[3] === "turn") turnGiven();
        if (argv[3] === "restore") {
          if (argv[5] === "later") await turn;
          options.onStdout?.(Buffer.from(sumsByPlace[argv[5]!] ?? ""));
        }
        if (argv[3] === "scan") options.onStdout?.(Buffer.from(tree.map((e) => `f\0./${e.path}\x001\x00644\x00${e.mtime}\0\0`).join("")));
        if (argv[1] === "sums") {
          for (const name of stdin.toString().split("\0").filter(Boolean)) hashed.push(name.slice(2));
          options.onStdout?.(Buffer.from(hashed.map((p) => `${tree.find((e) => e.path === p)!.md5}  ./${p}\0`).join("")));
        }
        return ok();
      },
    } as unknown as SshConnection;
    const report = await restoreSnapshot({ ssh, store, id: incremental });
    expect(report.ok).toBe(true);
    return hashed;
  }

  it("a later link's sum replaces an earlier one's, and nothing is hashed again", async () => {
    const hashed = await restoreWith({ first: `${sum("a")}  ./kept\0${sum("b")}  ./rewritten\0`, later: `${sum("c")}  ./rewritten\0` });
    expect(hashed).toEqual([]);
  });

  it("a file a later link rewrote without a sum is hashed from the disk, not taken as the earlier link left it", async () => {
    expect(await restoreWith({ first: `${sum("a")}  ./kept\0${sum("b")}  ./rewritten\0` })).toEqual(["rewritten"]);
  });

  it("a link whose sums stop parsing has its files hashed from the disk, also those whose sums came first", async () => {
    expect(await restoreWith({ first: `${sum("a")}  ./kept\0${sum("b")}  ./rewritten\0`, later: `${sum("c")}  ./rewritten\0not a sum\0` })).toEqual(["rewritten"]);
  });
});

describe("a chain's links on the host", () => {
  it("the next link starts while the one before it still runs, and is placed only once that one ended: two at a time", async () => {
    const second = "20261122T150000000Z-last";
    const chain = [manifest(full, [full], "prod"), manifest(incremental, [full, incremental], "prod"), manifest(second, [full, incremental, second], "prod")];
    const byId = new Map(chain.map((m) => [m.id, m]));
    const store = { settings: { stack: "prod" }, readManifest: async (id: string) => byId.get(id)!, presignDownload: async () => "https://s3.example/x" } as unknown as SnapshotStore;
    const events: string[] = [];
    const ends = new Map<string, (code: number) => void>();
    const ssh = {
      label: "gpu",
      run: async (argv: string[]) => {
        if (argv[3] === "turn") events.push(`turn ${argv[5]}`);
        if (argv[3] === "restore") {
          events.push(`start ${argv[6]}`);
          const code = await new Promise<number>((resolve) => ends.set(argv[6]!, resolve));
          events.push(`end ${argv[6]}`);
          return { code, stdout: "", stderr: code ? "Killed" : "", stdoutBytes: Buffer.alloc(0) };
        }
        return { code: 0, stdout: "", stderr: "", stdoutBytes: Buffer.alloc(0) };
      },
    } as unknown as SshConnection;
    const settled = async () => { for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve)); };
    const restoring = restoreSnapshot({ ssh, store, id: second });
    restoring.catch(() => undefined);
    await settled();
    expect(events).toEqual(["start link-0", "start link-1"]);
    ends.get("link-0")!(0);
    await settled();
    expect(events).toEqual(["start link-0", "start link-1", "end link-0", "turn link-1", "start link-2"]);
    // A link the host did not finish stops the chain: the one after it never gets its turn.
    ends.get("link-1")!(137);
    await settled();
    // The restore gives up (its spool removed): the script still waiting for its turn ends then.
    ends.get("link-2")!(9);
    await expect(restoring).rejects.toThrow(`restore of ${incremental} stopped`);
    expect(events.filter((e) => e.startsWith("turn"))).toEqual(["turn link-1"]);
  });

  it("a later link whose script ended before its turn (its archive refused) is never given one", async () => {
    const chain = [manifest(full, [full], "prod"), manifest(incremental, [full, incremental], "prod")];
    const byId = new Map(chain.map((m) => [m.id, m]));
    const store = { settings: { stack: "prod" }, readManifest: async (id: string) => byId.get(id)!, presignDownload: async () => "https://s3.example/x" } as unknown as SnapshotStore;
    const turns: string[] = [];
    let firstEnds!: () => void;
    const firstEnded = new Promise<void>((resolve) => (firstEnds = resolve));
    const ssh = {
      label: "gpu",
      run: async (argv: string[]) => {
        if (argv[3] === "turn") turns.push(argv[5]!);
        if (argv[3] === "restore" && argv[5] === "first") await firstEnded;
        if (argv[3] === "restore" && argv[5] === "later") return { code: 8, stdout: "", stderr: "the archive holds ./evil, which its manifest does not name (not extracted)", stdoutBytes: Buffer.alloc(0) };
        return { code: 0, stdout: "", stderr: "", stdoutBytes: Buffer.alloc(0) };
      },
    } as unknown as SshConnection;
    const restoring = restoreSnapshot({ ssh, store, id: incremental });
    restoring.catch(() => undefined);
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    firstEnds();
    await expect(restoring).rejects.toThrow(`snapshot ${incremental} cannot be restored safely: the archive holds ./evil`);
    expect(turns).toEqual([]);
  });
});
