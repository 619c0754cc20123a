// One `dumont` invocation: find the command its words name, answer --help from the declarations,
// parse and check the arguments, run the command, and turn any failure into its report
// (error-report.ts) and exit status. The process itself (argv, streams, exit) stays in bin/dumont.ts,
// so tests run this as it is.
import { inspect } from "node:util";
import { UsageError } from "../../lib/errors.ts";
import { failureReport } from "../error-report.ts";
import type { TranslationContext } from "../error-translation.ts";
import type { Command } from "./command.ts";
import { commandHelp, groupHelp, overviewHelp } from "./help.ts";
import { nearestWord } from "./nearest-word.ts";
import { asksForHelp } from "./parse-command-line.ts";

export interface CliSurroundings {
  readonly commands: readonly Command[];
  /** A line (or lines) for stdout: help. */
  readonly out: (text: string) => void;
  /** A line for stderr: errors. */
  readonly err: (text: string) => void;
  /** DUMONT_DEBUG: print the whole error (stack, causes, fields) first. */
  readonly debug?: boolean;
  readonly errorContext?: () => TranslationContext;
  /** Runs before the command, which parses its arguments first thing: the project's tool environment (it writes nothing). */
  readonly beforeRun?: () => void;
}

/** The command whose words are the longest prefix of argv. */
function findCommand(commands: readonly Command[], argv: readonly string[]): Command | undefined {
  let best: Command | undefined;
  for (const command of commands) {
    const matches = command.path.every((word, i) => argv[i] === word);
    if (matches && command.path.length > (best?.path.length ?? 0)) best = command;
  }
  return best;
}

/** The longest prefix of argv that starts some commands' words (`snapshot` of `snapshot create`). */
function findGroup(commands: readonly Command[], argv: readonly string[]): string[] | undefined {
  for (let n = argv.length; n > 0; n--) {
    const words = argv.slice(0, n);
    if (commands.some((c) => c.path.length > n && words.every((w, i) => c.path[i] === w))) return words;
  }
  return undefined;
}

function unknownCommand(commands: readonly Command[], argv: readonly string[]): UsageError {
  const group = findGroup(commands, argv);
  if (group) {
    const members = commands.filter((c) => group.every((w, i) => c.path[i] === w)).map((c) => c.path[group.length]!);
    const typed = argv[group.length];
    const guess = typed === undefined ? undefined : nearestWord(typed, members);
    return new UsageError(
      typed === undefined ? `${group.join(" ")}: which one? ${[...new Set(members)].join(", ")}` : `${group.join(" ")}: unknown command '${typed}'`,
      `${guess ? `did you mean \`dumont ${[...group, guess].join(" ")}\`? ` : ""}\`dumont ${group.join(" ")} --help\` lists them`,
    );
  }
  const guess = nearestWord(argv[0]!, [...new Set(commands.map((c) => c.path[0]!))]);
  return new UsageError(`unknown command '${argv[0]}'`, `${guess ? `did you mean \`dumont ${guess}\`? ` : ""}\`dumont --help\` lists the commands`);
}

/** `dumont help [words…]`: the help of a command or a group, or the overview. */
function helpFor(commands: readonly Command[], words: readonly string[]): string {
  if (words.length === 0) return overviewHelp(commands);
  const command = commands.find((c) => c.path.length === words.length && c.path.every((w, i) => words[i] === w));
  if (command) return commandHelp(command);
  const group = findGroup(commands, words);
  if (group && group.length === words.length) return groupHelp(group, commands);
  throw unknownCommand(commands, words);
}

async function dispatch(argv: readonly string[], surroundings: CliSurroundings): Promise<number> {
  const { commands } = surroundings;
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h") {
    surroundings.out(overviewHelp(commands));
    return 0;
  }
  if (argv[0] === "help") {
    surroundings.out(helpFor(commands, argv.slice(1)));
    return 0;
  }
  const command = findCommand(commands, argv);
  // `dumont snapshot --help` (a group, no command): its commands.
  const group = findGroup(commands, argv);
  if (group && (!command || group.length > command.path.length) && argv.slice(group.length).some((a) => a === "--help" || a === "-h")) {
    surroundings.out(groupHelp(group, commands));
    return 0;
  }
  if (!command) throw unknownCommand(commands, argv);
  const args = argv.slice(command.path.length);
  if (asksForHelp(command, args)) {
    surroundings.out(commandHelp(command));
    return 0;
  }
  surroundings.beforeRun?.();
  return (await command.run(args)) ?? 0;
}

/** Runs the command argv names; resolves to the exit status. Never throws. */
export async function runCli(argv: readonly string[], surroundings: CliSurroundings): Promise<number> {
  try {
    return await dispatch(argv, surroundings);
  } catch (error) {
    if (surroundings.debug) surroundings.err(inspect(error, { depth: 6 }));
    const report = failureReport(error, surroundings.errorContext?.(), { withStack: !surroundings.debug });
    for (const line of report.lines) surroundings.err(line);
    return report.exitCode;
  }
}
