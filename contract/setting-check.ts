// Whether a value is valid for a setting, by its declaration (settings-schema.ts), and if not, what
// is wrong with it in a few words: "0 is outside 1…16", "'USA' is not a 2-letter country code".
// The settings reader puts the setting's names in front; a provider's `check` reports it against
// the input of the same name. Both use this one judgement, so a value the settings accept is never
// refused by a provider, nor the other way round.
import type { z } from "zod";
import { declarations, valueShape, type SettingKey, type ValueShape } from "./settings-schema.ts";

/** The setting's value made from `value` (a copy), or what is wrong with it. */
export function parseSetting(key: SettingKey, value: unknown): { readonly value: unknown } | { readonly problem: string } {
  const result = (declarations[key].value as z.ZodType).safeParse(value);
  return result.success ? { value: result.data } : { problem: describeIssue(result.error.issues[0]!, value, valueShape(key)) };
}

/** What is wrong with `value` as the setting's value, or undefined when it is valid. */
export function settingProblem(key: SettingKey, value: unknown): string | undefined {
  const parsed = parseSetting(key, value);
  return "problem" in parsed ? parsed.problem : undefined;
}

/** One failure per input that is a setting and is not valid, named as the input: what a provider's `check` returns. */
export function settingFailures<K extends SettingKey>(inputs: Partial<Record<K, unknown>>, keys: readonly K[]): { property: K; reason: string }[] {
  return keys.flatMap((key) => {
    const reason = settingProblem(key, inputs[key]);
    return reason === undefined ? [] : [{ property: key, reason }];
  });
}

/** What a value of each JSON Schema type (and so Pulumi config type) is, in words. */
export const valueKinds: Readonly<Record<NonNullable<ValueShape["type"]>, string>> = {
  integer: "a whole number", number: "a number", boolean: "true or false", string: "text", array: "a list", object: "a map of names to values",
};

function describeIssue(issue: z.core.$ZodIssue, input: unknown, shape: ValueShape): string {
  const at = issue.path.reduce<unknown>((value, step) => (value as Record<PropertyKey, unknown> | undefined)?.[step], input);
  // An issue about an item of a list (or a value in a map) is about the item's shape.
  const scope = issue.path.length > 0 ? (shape.items ?? shape.additionalProperties ?? shape) : shape;
  switch (issue.code) {
    case "invalid_type":
      return at === undefined ? "is not set" : `${quoted(at)} is not ${scope.type ? valueKinds[scope.type] : issue.expected}`;
    case "too_small":
    case "too_big":
      return issue.origin === "number" ? outsideRange(at, scope) : issue.message;
    case "invalid_value":
      return `${quoted(at)} is not ${issue.values.map((v) => `'${String(v)}'`).join(" or ")}`;
    case "invalid_format":
      return `${quoted(at)} is not ${issue.message}`;
    default:
      return issue.message;
  }
}

function outsideRange(value: unknown, shape: ValueShape): string {
  const { minimum: min, maximum: max } = shape;
  const bounded = (bound: unknown) => typeof bound === "number" && Math.abs(bound) < Number.MAX_SAFE_INTEGER;
  if (bounded(min) && bounded(max)) return `${String(value)} is outside ${min}…${max}`;
  return bounded(min) ? `${String(value)} is below ${min}` : `${String(value)} is above ${max}`;
}

function quoted(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : JSON.stringify(value) ?? String(value);
}
