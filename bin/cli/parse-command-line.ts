// Reads a command's arguments against its declaration (command.ts) with Node's own parser
// (util.parseArgs), and turns every way they can be wrong into one UsageError that names the option
// or argument and says what to give instead: never Node's raw TypeError, never a stack.
import { parseArgs } from "node:util";
import { UsageError } from "../../lib/errors.ts";
import type { CommandDeclaration, OptionDefinition, ParsedCommandLine, OptionTable } from "./command.ts";
import { commandName, listedOptions, usageLine } from "./help.ts";
import { nearestWord } from "./nearest-word.ts";

/** dumont's own arguments come before `--`; the words after it are a remote command's (ssh(1)'s convention). */
export function splitAtDoubleDash(args: readonly string[]): { options: string[]; command: string[] | undefined } {
  const at = args.indexOf("--");
  return at === -1 ? { options: [...args], command: undefined } : { options: args.slice(0, at), command: args.slice(at + 1) };
}

/** `--help` or `-h` among a command's own arguments (not a remote command's: `dumont ssh -- ls --help`). */
export function asksForHelp(command: Pick<CommandDeclaration, "afterDoubleDash">, args: readonly string[]): boolean {
  const own = command.afterDoubleDash ? splitAtDoubleDash(args).options : args;
  return own.includes("--help") || own.includes("-h");
}

type Token = NonNullable<ReturnType<typeof parseArgs>["tokens"]>[number];

function problem(command: CommandDeclaration, message: string, hint: string): UsageError {
  return new UsageError(`${command.path.join(" ")}: ${message}`, hint);
}

const helpHint = (command: CommandDeclaration) => `\`${commandName(command)} --help\` lists its options`;
const usageHint = (command: CommandDeclaration) => `usage: ${usageLine(command)}`;

/** The first option token that is unknown, lacks its value, or gives a flag a value. */
function checkOptionTokens(command: CommandDeclaration, tokens: readonly Token[]): void {
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const option: OptionDefinition | undefined = Object.hasOwn(command.options, token.name) ? command.options[token.name] : undefined;
    if (!option) {
      const guess = nearestWord(token.name, Object.keys(command.options));
      throw problem(command, `unknown option ${token.rawName}`, `${guess ? `did you mean --${guess}? ` : ""}${helpHint(command)}`);
    }
    if (option.type === "boolean") {
      if (token.value !== undefined) throw problem(command, `${token.rawName} is a flag and takes no value (got '${token.value}')`, `give ${token.rawName} alone`);
      continue;
    }
    // parseArgs in its lenient mode takes the next word as the value even when it is an option
    // (`--stack --json`): a value that looks like an option is refused, as its strict mode does.
    const looksLikeOption = token.value !== undefined && !token.inlineValue && token.value.startsWith("-") && token.value !== "-";
    if (token.value === undefined || looksLikeOption) {
      throw problem(command, `${token.rawName} needs a value (${option.value}: ${option.meaning})`,
        `give it as ${token.rawName} ${option.value}${looksLikeOption ? `, or ${token.rawName}=${token.value} for a value that starts with -` : ""}`);
    }
  }
}

/** Options that were given, in any form (a default does not count). */
function givenOptions(tokens: readonly Token[]): Set<string> {
  return new Set(tokens.flatMap((t) => (t.kind === "option" ? [t.name] : [])));
}

function checkPositionals(command: CommandDeclaration, positionals: readonly string[]): void {
  const declared = command.positionals ?? [];
  const repeatable = declared.at(-1)?.repeatable === true;
  if (positionals.length > declared.length && !repeatable) {
    const extra = positionals.slice(declared.length);
    if (command.afterDoubleDash) {
      throw new UsageError(`'${extra.join(" ")}': the ${command.afterDoubleDash.name.toLowerCase()} goes after --`, `e.g. npx ${commandName(command)} -- ${extra.join(" ")}`);
    }
    throw problem(command, `unexpected argument '${extra[0]}'`, usageHint(command));
  }
  const missing = declared.find((p, i) => p.required && positionals[i] === undefined);
  if (missing) throw problem(command, `missing ${missing.name} (${missing.meaning})`, usageHint(command));
}

/** The command line `args` for `command`, checked; throws a UsageError naming what is wrong. */
export function parseCommandLine(command: CommandDeclaration, args: readonly string[]): ParsedCommandLine<OptionTable> {
  const { options: own, command: rest } = command.afterDoubleDash ? splitAtDoubleDash(args) : { options: [...args], command: undefined };
  // `--cpu-standby` alone means `--cpu-standby=true`, as the seed guide writes it.
  const expanded = own.map((arg) => {
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    const option = name !== undefined && Object.hasOwn(command.options, name) ? command.options[name] : undefined;
    return option?.type === "string" && option.impliedValue !== undefined ? `${arg}=${option.impliedValue}` : arg;
  });
  const nodeOptions = Object.fromEntries(Object.entries(command.options).map(([name, o]) => [name,
    o.type === "boolean" ? { type: o.type, default: false } : o.default !== undefined ? { type: o.type, default: o.default } : { type: o.type }]));

  // Lenient first, to see every token as written and name the first wrong one ourselves.
  const { tokens } = parseArgs({ args: expanded, options: nodeOptions, strict: false, allowPositionals: true, tokens: true });
  checkOptionTokens(command, tokens);
  // Every token is known and well formed now, so the strict parse cannot fail.
  const { values, positionals } = parseArgs({ args: expanded, options: nodeOptions, strict: true, allowPositionals: true });
  const given = givenOptions(tokens);

  for (const [name, option] of Object.entries(command.options)) {
    if (option.type !== "string") continue;
    const value = values[name] as string | undefined;
    if (value !== undefined && option.choices && !option.choices.includes(value)) {
      throw problem(command, `--${name} takes ${option.choices.join(" or ")}, not '${value}'`, helpHint(command));
    }
    if (option.required && value === undefined) throw problem(command, `--${name} is required (${option.value}: ${option.meaning})`, usageHint(command));
  }
  for (const group of command.exclusive ?? []) {
    const chosen = group.filter((name) => given.has(name));
    if (chosen.length > 1) throw problem(command, `give one of ${listedOptions(group)}, not ${group.length === 2 ? "both" : "several"}`, helpHint(command));
  }
  checkPositionals(command, positionals);
  return { values: values as ParsedCommandLine<OptionTable>["values"], positionals, rest };
}
