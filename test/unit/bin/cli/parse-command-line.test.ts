// A wrong command line is refused before the command does anything: one line that names the
// option or argument, a hint that says what to do, exit status 2, never a stack. Every case here
// fails in the parser, so none of them touches a cloud, a stack or a host.
import { describe, expect, it } from "vitest";
import { splitAtDoubleDash } from "../../../../bin/cli/parse-command-line.ts";
import { runCli } from "../../../../bin/cli/run-cli.ts";
import { commands } from "../../../../bin/commands/index.ts";
import { expectRefused, type Ran } from "../../../support/refused-command-line.ts";

async function cli(argv: string[]): Promise<Ran> {
  let out = "", err = "";
  const code = await runCli(argv, { commands, out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

const named = commands.map((command) => [command.path.join(" "), command] as const);

describe("an unknown option", () => {
  it.each(named)("%s --bogus", async (_, command) => {
    const ran = await cli([...command.path, "--bogus"]);
    expectRefused(ran, new RegExp(`^dumont: ${command.path.join(" ")}: unknown option --bogus$`));
    expect(ran.err).toContain(`dumont ${command.path.join(" ")} --help`);
  });

  it("suggests the option meant", async () => {
    const ran = await cli(["snapshot", "list", "--jsno"]);
    expectRefused(ran, /unknown option --jsno/);
    expect(ran.err).toMatch(/did you mean --json\?/);
  });

  it("short options are unknown too", async () => {
    expectRefused(await cli(["cost", "-x"]), /unknown option -x/);
  });
});

describe("an option without its value", () => {
  const valueOptions = named.flatMap(([label, command]) => Object.entries(command.options)
    .filter(([, option]) => option.type === "string" && option.impliedValue === undefined)
    .map(([name]) => [`${label} --${name}`, command, name] as const));

  it.each(valueOptions)("%s (last word)", async (_, command, name) => {
    expectRefused(await cli([...command.path, `--${name}`]), new RegExp(`--${name} needs a value`));
  });

  it("followed by another option, it is not that option's value", async () => {
    const ran = await cli(["instance", "list", "--pattern", "--json"]);
    expectRefused(ran, /--pattern needs a value/);
    expect(ran.err).toContain("--pattern=--json");
  });

  it("a flag given a value", async () => {
    expectRefused(await cli(["snapshot", "create", "--full=yes"]), /--full is a flag and takes no value/);
  });
});

describe("values and arguments the command does not take", () => {
  it("a value outside the option's choices", async () => {
    expectRefused(await cli(["failover", "--from", "tape"]), /--from takes standby or snapshot, not 'tape'/);
    expectRefused(await cli(["journey", "--cloud", "mars"]), /--cloud takes local or real, not 'mars'/);
    expectRefused(await cli(["ssh", "--slot", "c"]), /--slot takes a or b, not 'c'/);
  });

  it("a required option missing", async () => {
    expectRefused(await cli(["snapshot", "restore"]), /--id is required/);
  });

  it("a required argument missing", async () => {
    expectRefused(await cli(["files", "validate"]), /missing FILE/);
    expectRefused(await cli(["instance", "status"]), /missing ID/);
    expectRefused(await cli(["local-cloud", "fault"]), /missing KIND/);
  });

  it("an argument the command does not take", async () => {
    expectRefused(await cli(["snapshot", "list", "extra"]), /unexpected argument 'extra'/);
  });

  it("a remote command before -- (dumont ssh)", async () => {
    const ran = await cli(["ssh", "ls", "-l"]);
    expect(ran.code).toBe(2);
    // `-l` is an option of dumont's until `--`: the first wrong word is refused.
    expect(ran.err).toMatch(/unknown option -l/);
    const words = await cli(["ssh", "ls"]);
    expectRefused(words, /'ls': the command goes after --/);
    expect(words.err).toContain("npx dumont ssh -- ls");
  });

  it("options of which only one may be given", async () => {
    expectRefused(await cli(["ssh", "--slot", "a", "--standby"]), /give one of --slot, --instance and --standby, not several/);
    expectRefused(await cli(["watch", "--stack", "a", "--stacks", "b*"]), /give one of --stack and --stacks, not both/);
    expectRefused(await cli(["snapshot", "create", "--slot", "a", "--instance", "5"]), /give one of --slot and --instance, not both/);
  });
});

describe("dumont's own arguments end at --", () => {
  it("splits at the first --", () => {
    expect(splitAtDoubleDash(["--slot", "b", "--", "ls", "--help", "--", "x"])).toEqual({ options: ["--slot", "b"], command: ["ls", "--help", "--", "x"] });
  });

  it("without -- there is no command (a shell)", () => {
    expect(splitAtDoubleDash(["--standby"])).toEqual({ options: ["--standby"], command: undefined });
  });

  it("an empty command after -- is a shell too", () => {
    expect(splitAtDoubleDash(["--"])).toEqual({ options: [], command: [] });
  });
});
