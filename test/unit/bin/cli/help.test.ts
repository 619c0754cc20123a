// The help is generated from the commands' declarations: for every command, `dumont <command>
// --help` names each option with what it means and what holds when it is not given, and
// `dumont --help` lists every command with its summary.
import { describe, expect, it } from "vitest";
import { commandHelp, optionTerm, overviewHelp, whenAbsent } from "../../../../bin/cli/help.ts";
import { runCli } from "../../../../bin/cli/run-cli.ts";
import { commands } from "../../../../bin/commands/index.ts";

/** The help with its wrapping undone, so that a long meaning is found whole. */
const flat = (text: string) => text.replace(/\s+/g, " ");

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "", err = "";
  const code = await runCli(argv, { commands, out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

const named = commands.map((command) => [command.path.join(" "), command] as const);

describe("dumont <command> --help", () => {
  it.each(named)("%s documents every option: how it is written, its meaning and its default", async (_, command) => {
    const { code, out, err } = await cli([...command.path, "--help"]);
    expect(code).toBe(0);
    expect(err).toBe("");
    expect(out.trimEnd()).toBe(commandHelp(command));
    const help = flat(out);
    expect(help).toContain(command.summary);
    for (const [name, option] of Object.entries(command.options)) {
      expect(option.meaning.trim(), `--${name} has no meaning`).not.toBe("");
      expect(help).toContain(`${optionTerm(name, option)} ${flat(option.meaning)} ${flat(whenAbsent(option))}`);
    }
    for (const positional of command.positionals ?? []) expect(help).toContain(flat(positional.meaning));
  });

  it.each(named)("`dumont help %s` says the same", async (_, command) => {
    expect((await cli(["help", ...command.path])).out.trimEnd()).toBe(commandHelp(command));
  });

  it("says what every kind of option is when it is not given", () => {
    expect(whenAbsent({ type: "boolean", meaning: "m" })).toBe("default: off");
    expect(whenAbsent({ type: "string", value: "V", meaning: "m", default: "local" })).toBe("default: local");
    expect(whenAbsent({ type: "string", value: "V", meaning: "m", default: "main", defaultShown: "$DUMONT_LOCAL_CLOUD, else main" })).toBe("default: $DUMONT_LOCAL_CLOUD, else main");
    expect(whenAbsent({ type: "string", value: "V", meaning: "m", absent: "the active GPU" })).toBe("default: the active GPU");
    expect(whenAbsent({ type: "string", value: "V", meaning: "m", required: true })).toBe("required");
  });

  it("after --, --help is the remote command's", async () => {
    // Parsing stops at the unknown option before anything connects: no host is needed.
    const { code, out, err } = await cli(["ssh", "--bogus", "--", "ls", "--help"]);
    expect(out).toBe("");
    expect(code).toBe(2);
    expect(err).toMatch(/unknown option --bogus/);
  });
});

describe("dumont --help", () => {
  it("lists every command with its summary", async () => {
    for (const argv of [[], ["--help"], ["-h"], ["help"]]) {
      const { code, out } = await cli(argv);
      expect(code).toBe(0);
      expect(out.trimEnd()).toBe(overviewHelp(commands));
    }
    const overview = flat(overviewHelp(commands));
    for (const command of commands) expect(overview).toContain(`${command.path.join(" ")} ${command.summary}`);
  });

  it("a group's --help lists its commands", async () => {
    const { code, out } = await cli(["snapshot", "--help"]);
    expect(code).toBe(0);
    for (const word of ["create", "list", "restore", "delete", "prune"]) expect(out).toContain(`snapshot ${word}`);
    expect(out).not.toContain("standby sync");
  });

  it("every command's words are its own: no two commands share a path", () => {
    const paths = commands.map((c) => c.path.join(" "));
    expect(new Set(paths).size).toBe(paths.length);
  });
});
