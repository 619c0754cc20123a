// Planning a snapshot's upload: multipart sizes within S3/B2's limits, and an archive bound that holds.
import { describe, expect, it } from "vitest";
import type { Entry } from "../../../../dataplane/snapshot/manifest.ts";
import { archiveUpperBound, planParts } from "../../../../dataplane/snapshot/create.ts";

const file = (path: string, extra: Partial<Entry> = {}): Entry => ({ path, type: "file", size: 10, mode: 0o644, mtime: "1700000000.0000000000", md5: "a".repeat(32), ...extra });

describe("multipart planning", () => {
  it("stays within S3/B2 limits: parts of at least 5 MiB and at most 10,000 of them", () => {
    expect(planParts(1000)).toEqual({ partSize: 64 * 1024 * 1024, parts: 1 });
    expect(planParts(1000, 1)).toMatchObject({ partSize: 5 * 1024 * 1024 });
    const huge = planParts(5 * 1024 ** 4); // 5 TiB
    expect(huge.parts).toBeLessThanOrEqual(10_000);
    expect(huge.partSize * huge.parts).toBeGreaterThanOrEqual(5 * 1024 ** 4);
  });

  it("bounds the archive from above, tar headers and LZ4's worst case included", () => {
    const bound = archiveUpperBound([file("x", { size: 100 * 1024 * 1024 })]);
    expect(bound).toBeGreaterThan(100 * 1024 * 1024 * 1.004);
  });
});
