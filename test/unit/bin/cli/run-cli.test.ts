// Which command the words name: an unknown command or a group without its command is refused in
// one line that says what was meant; nothing runs.
import { describe, expect, it } from "vitest";
import { runCli } from "../../../../bin/cli/run-cli.ts";
import { commands } from "../../../../bin/commands/index.ts";
import { expectRefused, type Ran } from "../../../support/refused-command-line.ts";

async function cli(argv: string[]): Promise<Ran> {
  let out = "", err = "";
  const code = await runCli(argv, { commands, out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

describe("an unknown command", () => {
  it("names it and suggests the one meant", async () => {
    const ran = await cli(["snapsot", "list"]);
    expectRefused(ran, /unknown command 'snapsot'/);
    expect(ran.err).toMatch(/did you mean `dumont snapshot`\?/);
  });

  it("a group without its command lists the group's commands", async () => {
    expectRefused(await cli(["snapshot"]), /snapshot: which one\? create, list, restore, delete, prune/);
    expectRefused(await cli(["snapshot", "lsit"]), /snapshot: unknown command 'lsit'/);
  });
});
