// Every shell block of the README says whether the README test runs it (test/support/readme-blocks.ts),
// and the parser reads blocks, decisions and commands as that test needs them.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../../lib/tools/paths.ts";
import { shellBlocks } from "../../support/readme-blocks.ts";

describe("README shell blocks", () => {
  it("each one is marked run or skip (with a reason)", () => {
    const blocks = shellBlocks(readFileSync(path.join(repoRoot, "README.md"), "utf8"));
    expect(blocks.length).toBeGreaterThan(5);
    for (const block of blocks) expect(block.decision, `README line ${block.line} (${block.section}): add <!-- readme-test: run --> or <!-- readme-test: skip: why -->`).toBeDefined();
    for (const block of blocks) if (block.decision?.kind === "skip") expect(block.decision.reason).not.toBe("no reason given");
    // What a newcomer runs first is run: setup, the engine, a stack's life, ssh, a GPU outside a stack.
    const run = blocks.filter((b) => b.decision?.kind === "run").flatMap((b) => b.commands);
    expect(run).toEqual(expect.arrayContaining(["npm run setup     # only the setup step", expect.stringMatching(/^npx dumont up --stack local/), expect.stringMatching(/^npx dumont ssh /), expect.stringMatching(/^npx dumont instance create /)]));
  });

  it("reads decisions, timeouts, continuation lines and sections", () => {
    const blocks = shellBlocks([
      "## First", "", "<!-- readme-test: run (timeout 90 s) -->", "```sh", "# a comment", "echo one \\", "  two", "", "echo three   # why", "```",
      "## Second", "<!-- readme-test: skip: needs money -->", "```sh", "pay", "```", "```sh", "unmarked", "```", "```", "not shell", "```",
    ].join("\n"));
    expect(blocks).toEqual([
      { line: 4, section: "First", decision: { kind: "run", timeoutSeconds: 90 }, commands: ["echo one    two", "echo three   # why"] },
      { line: 13, section: "Second", decision: { kind: "skip", reason: "needs money" }, commands: ["pay"] },
      { line: 16, section: "Second", decision: undefined, commands: ["unmarked"] },
    ]);
  });
});
