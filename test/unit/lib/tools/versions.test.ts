import { describe, expect, it } from "vitest";
import { parseVersionsFile } from "../../../../lib/tools/versions.ts";

describe("parseVersionsFile", () => {
  it("reads KEY=VALUE lines and ignores comments", () => {
    expect(parseVersionsFile("# c\nPULUMI_VERSION=3.259.0\n  # x=y\nNODE_VERSION=24.21.0\n")).toEqual({
      PULUMI_VERSION: "3.259.0",
      NODE_VERSION: "24.21.0",
    });
  });
});
