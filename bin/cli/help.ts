// The help, generated from the commands' declarations (command.ts): `dumont --help` lists the
// commands, `dumont <command> --help` documents each option (what it means, what holds when it is
// not given), `dumont <group> --help` lists a group's commands.
import type { CommandDeclaration, OptionDefinition } from "./command.ts";

const width = 100;

/** "dumont snapshot create" */
export function commandName(command: Pick<CommandDeclaration, "path">): string {
  return `dumont ${command.path.join(" ")}`;
}

/** "--a and --b", "--a, --b and --c" */
export function listedOptions(names: readonly string[]): string {
  const flags = names.map((n) => `--${n}`);
  return flags.length < 2 ? flags.join("") : `${flags.slice(0, -1).join(", ")} and ${flags.at(-1)}`;
}

/** Words of `text` in lines of at most `columns` characters (a longer word gets a line of its own). */
function wrap(text: string, columns: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > columns) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

/** Rows of a term and its text (lines of text, each wrapped), the texts in one column after the longest term. */
function table(rows: ReadonlyArray<readonly [term: string, ...texts: string[]]>): string[] {
  const column = Math.min(32, Math.max(...rows.map(([term]) => term.length)) + 4);
  return rows.flatMap(([term, ...texts]) => {
    const body = texts.flatMap((text) => wrap(text, width - column));
    const first = term.length + 4 <= column ? [`  ${term.padEnd(column - 2)}${body.shift() ?? ""}`] : [`  ${term}`];
    return [...first, ...body.map((line) => `${" ".repeat(column)}${line}`)];
  });
}

/** What an option is when it is not given, as the help says it: "default: local", "required". */
export function whenAbsent(option: OptionDefinition): string {
  if (option.type === "boolean") return "default: off";
  if (option.required) return "required";
  if (option.default !== undefined) return `default: ${option.defaultShown ?? (option.default === "" ? '""' : option.default)}`;
  return `default: ${option.absent}`;
}

/** How an option is written: "--stack STACK", "--full", "--cpu-standby[=true|false]". */
export function optionTerm(name: string, option: OptionDefinition): string {
  if (option.type === "boolean") return `--${name}`;
  return option.impliedValue !== undefined ? `--${name}[=${option.value}]` : `--${name} ${option.value}`;
}

/** "dumont snapshot restore --id ID [options]", "dumont ssh [options] [-- COMMAND…]" */
export function usageLine(command: CommandDeclaration): string {
  const options = Object.entries(command.options);
  const required = options.filter(([, o]) => o.type === "string" && o.required).map(([name, o]) => optionTerm(name, o));
  const positionals = (command.positionals ?? []).map((p) => {
    const name = p.repeatable ? `${p.name}…` : p.name;
    return p.required ? name : `[${name}]`;
  });
  const optional = options.length > required.length ? ["[options]"] : [];
  const rest = command.afterDoubleDash ? [`[-- ${command.afterDoubleDash.name}…]`] : [];
  return [commandName(command), ...required, ...positionals, ...optional, ...rest].join(" ");
}

/** `dumont <command> --help`. */
export function commandHelp(command: CommandDeclaration): string {
  const lines = [...wrap(`${commandName(command)}: ${command.summary}`, width), "", `Usage: ${usageLine(command)}`];
  const positionals = command.positionals ?? [];
  if (positionals.length > 0 || command.afterDoubleDash) {
    lines.push("", "Arguments:", ...table([
      ...positionals.map((p) => [p.repeatable ? `${p.name}…` : p.name, p.meaning, p.required ? "required" : p.repeatable ? "optional, one or more" : "optional"] as const),
      ...(command.afterDoubleDash ? [[`-- ${command.afterDoubleDash.name}…`, command.afterDoubleDash.meaning] as const] : []),
    ]));
  }
  lines.push("", "Options:", ...table([
    ...Object.entries(command.options).map(([name, option]) => [optionTerm(name, option), option.meaning, whenAbsent(option)] as const),
    ["-h, --help", "show this help"],
  ]));
  const groups = command.exclusive ?? [];
  if (groups.length > 0) lines.push("", ...groups.map((g) => `Give at most one of ${listedOptions(g)}.`));
  return lines.join("\n");
}

/** `dumont snapshot --help`: the commands under a group's words. */
export function groupHelp(words: readonly string[], commands: readonly CommandDeclaration[]): string {
  const members = commands.filter((c) => words.every((w, i) => c.path[i] === w));
  return [
    `dumont ${words.join(" ")}: one of these commands`, "",
    ...table(members.map((c) => [c.path.join(" "), c.summary])), "",
    `\`dumont ${words.join(" ")} <command> --help\` documents each one's options.`,
  ].join("\n");
}

/** `dumont --help`: every command with its one-line summary. */
export function overviewHelp(commands: readonly CommandDeclaration[]): string {
  return [
    "dumont: declared, tested GPU failover for Vast.ai workspaces",
    "",
    "Usage: dumont <command> [options]",
    "",
    "Commands:",
    ...table(commands.map((c) => [c.path.join(" "), c.summary])),
    "",
    "`dumont <command> --help` (or `dumont help <command>`) documents a command's options and their defaults.",
    "Settings: stacks/Pulumi.<stack>.yaml, each overridable by an environment variable (see README).",
    "Exit status: 0 done; 1 an operation failed (the message says why); 2 a usage or settings error, or",
    "something else you can fix; 3 this machine or a provider is at fault; 70 a bug in Dumont.",
    "DUMONT_DEBUG=1 prints every error in full, with its stack.",
  ].join("\n");
}
