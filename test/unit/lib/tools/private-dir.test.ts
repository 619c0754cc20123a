import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { makePrivateDir } from "../../../../lib/tools/private-dir.ts";

describe("makePrivateDir", () => {
  it("makes the folder and every missing parent owner-only, and keeps the mode of one that exists", () => {
    const root = mkdtempSync(path.join(tmpdir(), "dumont-private-"));
    try {
      chmodSync(root, 0o755);
      makePrivateDir(path.join(root, "state", "locks"));
      expect(statSync(path.join(root, "state")).mode & 0o777).toBe(0o700);
      expect(statSync(path.join(root, "state", "locks")).mode & 0o777).toBe(0o700);
      makePrivateDir(root);
      expect(statSync(root).mode & 0o777).toBe(0o755);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
