// What `dumont` prints when a command fails, and its exit status, by who can fix it
// (lib/errors.ts): Dumont's own errors and the ones error-translation.ts recognizes are one line
// and a hint; anything else is a bug in Dumont, said so, with its stack for the report. Pure:
// bin/cli/run-cli.ts writes the lines.
import { EnvironmentError, UserError } from "../lib/errors.ts";
import { firstLine, translateError, type TranslationContext } from "./error-translation.ts";

/** sysexits.h's EX_SOFTWARE: an internal software error. */
export const internalErrorExitCode = 70;

export type FailureKind = "user" | "environment" | "operation" | "internal";

export interface FailureReport {
  readonly kind: FailureKind;
  readonly exitCode: number;
  /** For stderr, in order. */
  readonly lines: readonly string[];
}

/** The stack of a bug and of what caused it, as far as they go. */
function stackLines(error: unknown): string[] {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    const text = current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current);
    lines.push(...(depth === 0 ? [] : ["caused by:"]), ...text.split("\n").map((l) => `    ${l.trimStart()}`));
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines;
}

/**
 * The report for `error`. `withStack: false` leaves a bug's stack out (DUMONT_DEBUG printed the
 * whole error already).
 */
export function failureReport(error: unknown, context: TranslationContext = {}, options: { withStack?: boolean } = {}): FailureReport {
  const known = translateError(error, context);
  if (known) {
    const kind: FailureKind = known instanceof UserError ? "user" : known instanceof EnvironmentError ? "environment" : "operation";
    return { kind, exitCode: known.exitCode, lines: [`dumont: ${known.message}`, ...(known.hint ? [`  ${known.hint}`] : [])] };
  }
  return {
    kind: "internal",
    exitCode: internalErrorExitCode,
    lines: [
      `dumont: internal error: ${firstLine(error)}`,
      "  this is a bug in Dumont, not something you did: please report it with what follows",
      ...(options.withStack === false ? [] : stackLines(error)),
    ],
  };
}
