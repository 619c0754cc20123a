// How a `dumont` subcommand is declared: its words, a one-line summary, and its options and
// arguments, each with what it means and what holds when it is not given. The parser
// (parse-command-line.ts) and the help (help.ts) are both generated from this one declaration, so
// what --help says is what the parser accepts.
import { parseCommandLine } from "./parse-command-line.ts";

interface Explained {
  /** What the option or argument does, for the help. */
  readonly meaning: string;
}

/** An on/off flag: off unless given. */
export interface FlagOption extends Explained {
  readonly type: "boolean";
}

/** What a value option is when it is not given: every option says so, and the help shows it. */
type WhenAbsent =
  /** A fixed value (`defaultShown`, when given, is how the help describes it: "$DUMONT_LOCAL_CLOUD, else main"). */
  | { readonly default: string; readonly defaultShown?: string; readonly absent?: undefined; readonly required?: undefined }
  /** No value: `absent` says what the command does then ("the stack's active GPU"). */
  | { readonly absent: string; readonly default?: undefined; readonly defaultShown?: undefined; readonly required?: undefined }
  | { readonly required: true; readonly default?: undefined; readonly defaultShown?: undefined; readonly absent?: undefined };

/** An option with a value: `--stack local` or `--stack=local`. */
export type ValueOption = Explained & WhenAbsent & {
  readonly type: "string";
  /** The value's name in the help: STACK, ID, USD. */
  readonly value: string;
  /** The only values it takes. */
  readonly choices?: readonly string[];
  /** Given alone (`--cpu-standby`), the option means this value (`--cpu-standby=true`). */
  readonly impliedValue?: string;
};

export type OptionDefinition = FlagOption | ValueOption;
export type OptionTable = Readonly<Record<string, OptionDefinition>>;

export interface PositionalDefinition extends Explained {
  /** Its name in the help: ID, FILE. */
  readonly name: string;
  readonly required?: boolean;
  /** It may be given several times (it is then the last one). */
  readonly repeatable?: boolean;
}

type ValueOf<O> = O extends FlagOption ? boolean
  : O extends { readonly choices: readonly (infer C extends string)[] } ? (O extends { default: string } | { required: true } ? C : C | undefined)
  : O extends { default: string } | { required: true } ? string : string | undefined;

export type OptionValues<O extends OptionTable> = { readonly [K in keyof O]: ValueOf<O[K]> };

export interface ParsedCommandLine<O extends OptionTable> {
  readonly values: OptionValues<O>;
  readonly positionals: readonly string[];
  /** The words after `--`, for a command that takes them (undefined when there was no `--`). */
  readonly rest?: readonly string[];
}

/** What a command takes, as the parser and the help read it. */
export interface CommandDeclaration<O extends OptionTable = OptionTable> {
  /** Words after `dumont`, e.g. ["local-cloud", "up"]. */
  readonly path: readonly string[];
  /** One line: what the command does. */
  readonly summary: string;
  readonly options: O;
  readonly positionals?: readonly PositionalDefinition[];
  /** The words after `--` (`dumont ssh -- ls -l`): what they are. */
  readonly afterDoubleDash?: PositionalDefinition;
  /** Groups of options of which at most one may be given. */
  readonly exclusive?: readonly (readonly (keyof O & string)[])[];
}

export interface CommandDefinition<O extends OptionTable> extends CommandDeclaration<O> {
  /** What the command does with its checked command line; a number is its exit status. */
  action(commandLine: ParsedCommandLine<O>): Promise<number | void>;
}

/** A command as the registry holds it: its declaration, and `run` with the words after its path. */
export interface Command extends CommandDeclaration {
  /** Parses `args` (a UsageError when they are wrong), then runs the command. */
  run(args: readonly string[]): Promise<number | void>;
}

/**
 * Declares a command. The `const` type parameter keeps the options' literal types, so `action`
 * gets `values.stack` as a string (it has a default) and `values.slot` as string | undefined.
 */
export function defineCommand<const O extends OptionTable>(definition: CommandDefinition<O>): Command {
  const { action, ...declaration } = definition;
  return {
    ...(declaration as CommandDeclaration),
    run: (args) => action(parseCommandLine(declaration as CommandDeclaration, args) as ParsedCommandLine<O>),
  };
}
