// Hashing a host's files when some may be missing: the files that could not be read are left out,
// and a hashing command that fails outright is named as such, not as every file unreadable.
import { describe, expect, it } from "vitest";
import type { CommandRunner, RunOptions, RunResult } from "../../../../dataplane/ssh/client.ts";
import { hashFiles, scanWorkspaceTable } from "../../../../dataplane/snapshot/workspace-scan.ts";

/** A host whose hashing command prints `stdout` and exits with `code`. */
function hostAnswering(code: number, stdout: string, stderr = ""): CommandRunner {
  const run = async (_argv: readonly string[], options?: RunOptions): Promise<RunResult> => {
    options?.onStdout?.(Buffer.from(stdout));
    return { code, stdout: "", stderr };
  };
  return { run: run as CommandRunner["run"] };
}

const sum = "0123456789abcdef0123456789abcdef";

describe("hashFiles with missing files allowed", () => {
  it("leaves out the files that could not be read (exit 1) and keeps the others' MD5s", async () => {
    const sums = await hashFiles(hostAnswering(1, `${sum}  ./a\0`, "md5sum: ./b: No such file or directory"), ["a", "b"], { missingOk: true });
    expect([...sums]).toEqual([["a", sum]]);
  });

  it("names a hashing command that failed outright instead of reporting every file unreadable", async () => {
    await expect(hashFiles(hostAnswering(2, "", "dumont-pack: cannot enter /workspace: permission denied"), ["a"], { missingOk: true }))
      .rejects.toThrow(/hashing 1 file\(s\) in \/workspace failed \(exit 2\): dumont-pack: cannot enter \/workspace/);
    await expect(hashFiles(hostAnswering(-1, ""), ["a"], { missingOk: true, root: "/mirror" })).rejects.toThrow(/in \/mirror failed \(exit -1\): no message/);
  });
});

describe("a snapshot's scan", () => {
  const record = (type: string, path: string, mode = "644") => `${type}\0./${path}\0${type === "f" ? 3 : 4096}\0${mode}\u{0}1700000000.1234567890\0\0`;

  it("is a table in path order, whatever order the host listed it in, a mode no file has kept as listed", async () => {
    const { entries, skipped } = await scanWorkspaceTable(hostAnswering(0, record("f", "b") + record("d", "a") + record("f", "a/x", "1777777") + record("p", "fifo") + record("f", "a b")));
    expect([...entries].map((e) => [e.path, e.mode])).toEqual([["a", 0o644], ["a b", 0o644], ["a/x", 0o1777777], ["b", 0o644]]);
    expect(skipped).toEqual(["fifo"]);
  });

  it("refuses a path longer than any snapshot holds, in a line that names it and what to do", async () => {
    const scan = scanWorkspaceTable(hostAnswering(0, record("d", "a") + record("f", `a/${"x".repeat(5000)}`)));
    await expect(scan).rejects.toThrow(/^"a\/x{58}"… in \/workspace is a path of 5002 characters, longer than any snapshot holds \(4096\)$/);
    await expect(scan).rejects.toMatchObject({ hint: expect.stringContaining("shorter path") });
  });
});
