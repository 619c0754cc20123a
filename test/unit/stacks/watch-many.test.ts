// Which stacks `dumont watch --stacks` watches, and how soon a stack whose watch failed is tried again.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { restartDelaySeconds, stacksMatching } from "../../../stacks/watch-many.ts";

const folder = mkdtempSync(path.join(tmpdir(), "dumont-stacks-"));
for (const name of ["prod-a", "prod-b", "prod", "staging", "local"]) writeFileSync(path.join(folder, `Pulumi.${name}.yaml`), "config: {}\n");
writeFileSync(path.join(folder, "program.ts"), "");
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe("watch --stacks", () => {
  it("takes the stacks whose settings files match any pattern", () => {
    expect(stacksMatching(["prod-*"], folder)).toEqual(["prod-a", "prod-b"]);
    expect(stacksMatching(["prod*", "staging"], folder)).toEqual(["prod", "prod-a", "prod-b", "staging"]);
    expect(stacksMatching(["nothing-*"], folder)).toEqual([]);
  });

  it("retries a failing stack with a growing, capped delay", () => {
    expect([1, 2, 3, 4].map(restartDelaySeconds)).toEqual([5, 10, 20, 40]);
    expect(restartDelaySeconds(20)).toBe(300);
  });
});
