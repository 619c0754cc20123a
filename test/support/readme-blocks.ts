// The README's shell blocks and what the README test does with each. Every ```sh block carries a
// decision on the line before it, invisible on the rendered page:
//   <!-- readme-test: run -->                       every command of the block runs, in order
//   <!-- readme-test: run (timeout 1500 s) -->      the same, each command allowed that long
//   <!-- readme-test: skip: why -->                 not run, and why (printed by the test)
// A block without a decision fails the test, so a new block is never silently left out.

export type BlockDecision =
  | { readonly kind: "run"; readonly timeoutSeconds?: number }
  | { readonly kind: "skip"; readonly reason: string };

export interface ShellBlock {
  /** 1-based line of the opening fence, for messages. */
  readonly line: number;
  /** The `## ` heading the block is under. */
  readonly section: string;
  readonly decision?: BlockDecision;
  /** One entry per command: lines joined where they end in `\`, blank and comment-only lines dropped. */
  readonly commands: readonly string[];
}

const markerPattern = /^<!--\s*readme-test:\s*(run|skip)\b(.*?)-->\s*$/;

function decisionOf(markerLine: string | undefined): BlockDecision | undefined {
  const m = markerLine === undefined ? null : markerPattern.exec(markerLine.trim());
  if (!m) return undefined;
  if (m[1] === "skip") return { kind: "skip", reason: m[2]!.replace(/^\s*:\s*/, "").trim() || "no reason given" };
  const timeout = /\(timeout (\d+) s\)/.exec(m[2]!)?.[1];
  return { kind: "run", ...(timeout && { timeoutSeconds: Number(timeout) }) };
}

function commandsOf(body: readonly string[]): string[] {
  const commands: string[] = [];
  let pending = "";
  for (const raw of body) {
    const line = raw.trimEnd();
    if (pending === "" && (line.trim() === "" || line.trim().startsWith("#"))) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    commands.push(`${pending}${line}`.trim());
    pending = "";
  }
  if (pending.trim()) commands.push(pending.trim());
  return commands;
}

/** Every ```sh block of a Markdown text, in order, with its decision (from the line just before it). */
export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split("\n");
  const blocks: ShellBlock[] = [];
  let section = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("## ")) section = line.slice(3).trim();
    if (line.trim() !== "```sh") continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === "```");
    if (end === -1) throw new Error(`README line ${i + 1}: a \`\`\`sh block that never closes`);
    blocks.push({ line: i + 1, section, decision: decisionOf(lines[i - 1]), commands: commandsOf(lines.slice(i + 1, end)) });
    i = end;
  }
  return blocks;
}
