// The README's table of settings, made from their declarations (settings-schema.ts): name,
// environment variable, type, default, allowed values and meaning of each. A unit test fails when
// the README's table differs from what this makes; `npm run settings:docs` rewrites it.
import { declarations, DerivedDefault, settingKeys, valueShape, type Declaration, type SettingKey, type ValueShape } from "./settings-schema.ts";

const begin = "<!-- settings-table: generated from contract/settings-schema.ts by `npm run settings:docs` -->";
const end = "<!-- settings-table: end -->";

const typeWords: Readonly<Record<NonNullable<ValueShape["type"]>, string>> = {
  string: "text", integer: "whole number", number: "number", boolean: "true/false", array: "list", object: "map",
};

function typeOf(key: SettingKey, declaration: Declaration): string {
  const shape = valueShape(key);
  if (declaration.secret) return "secret text";
  if (shape.type === "array" && shape.items?.type) return `list of ${shape.items.type === "string" ? "text" : `${typeWords[shape.items.type]}s`}`;
  return shape.type ? typeWords[shape.type] : "";
}

const code = (value: unknown) => `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;

function defaultOf(declaration: Declaration): string {
  const value = declaration.default;
  if (value instanceof DerivedDefault) return value.rule;
  if (value === undefined) return declaration.whenUnset ?? "none";
  if (value === "" || (Array.isArray(value) && value.length === 0) || (typeof value === "object" && value !== null && Object.keys(value).length === 0)) return "none";
  return Array.isArray(value) ? value.map(code).join(", ") : code(value);
}

/** The values a shape allows beyond its type, in words: "1…16", "`local` or `real`", a pattern's rule. */
function allowed(shape: ValueShape): string {
  const bounded = (bound: number | undefined): bound is number => bound !== undefined && Math.abs(bound) < Number.MAX_SAFE_INTEGER;
  if (shape.enum) return shape.enum.map(code).join(" or ");
  if (shape.type === "integer" || shape.type === "number") {
    if (bounded(shape.minimum) && bounded(shape.maximum)) return `${shape.minimum}…${shape.maximum}`;
    return bounded(shape.minimum) ? `≥ ${shape.minimum}` : bounded(shape.maximum) ? `≤ ${shape.maximum}` : "";
  }
  if (shape.type === "array") {
    const items = shape.items ? allowed(shape.items) : "";
    const count = shape.minItems ? `at least ${shape.minItems}` : "";
    return [count, items && `each ${items}`].filter(Boolean).join(", ");
  }
  if (shape.maxLength !== undefined) return `at most ${shape.maxLength} characters`;
  return shape.description ?? "";
}

const cell = (text: string) => text.replace(/\|/g, "\\|");

export function settingsTable(): string {
  const rows = settingKeys.map((key) => {
    const declaration = declarations[key] as Declaration;
    return [
      `\`dumont:${key}\``, declaration.env ? `\`${declaration.env}\`` : "", typeOf(key, declaration), defaultOf(declaration), allowed(valueShape(key)), declaration.meaning,
    ].map(cell);
  });
  return [
    "| setting | environment variable | type | default | allowed | meaning |",
    "|---|---|---|---|---|---|",
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");
}

/** The README with the text between the table's markers made anew (the markers must be there). */
export function withSettingsTable(readme: string): string {
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end);
  if (from === -1 || to < from) throw new Error(`the README has no settings table to rewrite: put the lines\n${begin}\n${end}\nwhere it belongs`);
  return `${readme.slice(0, from + begin.length)}\n${settingsTable()}\n${readme.slice(to)}`;
}
