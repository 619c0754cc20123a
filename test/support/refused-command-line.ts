// What a refused command line looks like, for the CLI's tests: exit status 2, the message line
// (naming what is wrong) and at most a hint on stderr, nothing on stdout, no stack.
import { expect } from "vitest";

export interface Ran {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

export function expectRefused(ran: Ran, message: RegExp): void {
  const lines = ran.err.trimEnd().split("\n");
  expect(ran.code, ran.err).toBe(2);
  expect(ran.out).toBe("");
  expect(lines[0], ran.err).toMatch(/^dumont: /);
  expect(lines[0], ran.err).toMatch(message);
  expect(lines.length, ran.err).toBeLessThanOrEqual(2);
  expect(ran.err).not.toMatch(/^\s+at /m);
}
