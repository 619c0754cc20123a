#!/usr/bin/env -S node --disable-warning=ExperimentalWarning
// dumont: the command line. It finds the subcommand, runs it in the project's tool environment,
// and is the one place that turns errors into messages and exit codes.
import { applyToolEnvironment } from "../harness/tools/environment.ts";
import { commands } from "./commands/index.ts";
import type { Command } from "./commands/types.ts";
import { errorContext } from "./error-context.ts";
import { firstLine, translateError } from "./error-translation.ts";

function helpText(): string {
  const width = Math.max(...commands.map((c) => c.path.join(" ").length + 1 + c.usage.length));
  const rows = commands.map((c) => `  dumont ${`${c.path.join(" ")} ${c.usage}`.padEnd(width)}  ${c.summary}`);
  return [
    "dumont: declared, tested GPU failover for Vast.ai workspaces",
    "",
    "Usage:",
    ...rows,
    "",
    "Every command takes --help. Settings: stacks/Pulumi.<stack>.yaml, overridable by environment (see README).",
  ].join("\n");
}

/** The command whose path is the longest prefix of argv. */
function findCommand(argv: readonly string[]): { command?: Command; rest: string[] } {
  let best: Command | undefined;
  for (const command of commands) {
    const matches = command.path.every((word, i) => argv[i] === word);
    if (matches && command.path.length > (best?.path.length ?? 0)) best = command;
  }
  return { command: best, rest: argv.slice(best?.path.length ?? 0) };
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    console.log(helpText());
    return 0;
  }
  const { command, rest } = findCommand(argv);
  if (!command) {
    console.error(`dumont: unknown command '${argv.join(" ")}'\n\n${helpText()}`);
    return 2;
  }
  // After `--` the words are a remote command's (dumont ssh -- ls --help), not dumont's.
  const own = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
  if (own.includes("--help") || own.includes("-h")) {
    console.log(`Usage: dumont ${command.path.join(" ")} ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  applyToolEnvironment();
  return (await command.run(rest)) ?? 0;
}

/**
 * Every failure ends as one line (and a hint) on stderr: Dumont's own errors as they are, the ones
 * it knows from Pulumi, the network and the clouds translated (error-translation.ts), anything else
 * as its first line. DUMONT_DEBUG=1 prints the whole error with its stack instead.
 */
function report(error: unknown): number {
  if (process.env.DUMONT_DEBUG) console.error(error);
  if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
    console.error(`dumont: ${error.message}`);
    console.error("  every command takes --help");
    return 2;
  }
  const translated = translateError(error, errorContext());
  if (translated) {
    console.error(`dumont: ${translated.message}`);
    if (translated.hint) console.error(`  ${translated.hint}`);
    return translated.exitCode;
  }
  if (!process.env.DUMONT_DEBUG) {
    console.error(`dumont: ${firstLine(error)}`);
    console.error("  an unexpected error: DUMONT_DEBUG=1 before the command prints it in full, with its stack");
  }
  return 1;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.exitCode = report(error);
}
