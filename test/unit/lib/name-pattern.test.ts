// The seed's wildcard patterns (`--pattern 'test-snapshot-*'`): * and ? only, every other character literal.
import { describe, expect, it } from "vitest";
import { matchesPattern } from "../../../lib/name-pattern.ts";

describe("name patterns", () => {
  it("matches the seed's wildcard patterns", () => {
    expect(matchesPattern("test-snapshot-1704108234", "test-snapshot-*")).toBe(true);
    expect(matchesPattern("manual-test-1", "test-snapshot-*")).toBe(false);
    expect(matchesPattern("a.b", "a?b")).toBe(true);
    expect(matchesPattern("axb", "a.b")).toBe(false);
  });
});
