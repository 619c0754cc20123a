// The committed stack settings files (stacks/Pulumi.<stack>.yaml) pass the settings' checks, and
// store numbers and true/false as such, not as quoted text. They are read as committed: the engine
// rewrites a stack's file when it first opens the stack (quoting every value, adding its salt).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../../lib/tools/paths.ts";
import { readSettings } from "../../../stacks/settings.ts";

const stacksDir = path.join(repoRoot, "stacks");

const inGitCheckout = (() => {
  try {
    execFileSync("git", ["-C", repoRoot, "rev-parse", "HEAD"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** The file as the checkout's last commit has it (undefined: not committed), or as it is outside a git checkout. */
function committedText(file: string): string | undefined {
  if (!inGitCheckout) return readFileSync(path.join(stacksDir, file), "utf8");
  try {
    return execFileSync("git", ["-C", repoRoot, "show", `HEAD:stacks/${file}`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return undefined;
  }
}

// Tests' and journeys' stacks come and go (git ignores them).
const committed = readdirSync(stacksDir).filter((f) => /^Pulumi\.[\w.-]+\.yaml$/.test(f) && !/^Pulumi\.(it|journey)-/.test(f) && committedText(f) !== undefined);

/** `dumont:` settings as the engine hands them to a program: scalars as text, lists as JSON. */
function dumontConfig(file: string): Record<string, string> {
  const scalars: Record<string, string> = {};
  const lists = new Map<string, string[]>();
  let list: string[] | undefined;
  for (const line of committedText(file)!.split("\n")) {
    const [, key, value] = /^ {2}dumont:(\w+):(?: (.+))?$/.exec(line) ?? [];
    if (key !== undefined) {
      list = undefined;
      if (value !== undefined) scalars[key] = value.startsWith('"') ? JSON.parse(value) : value;
      else lists.set(key, (list = []));
    }
    const item = /^ {4}- (.+)$/.exec(line)?.[1];
    if (item !== undefined && list) list.push(item);
  }
  return { ...scalars, ...Object.fromEntries([...lists].map(([key, items]) => [key, JSON.stringify(items)])) };
}

describe("the committed stack settings files", () => {
  it("are there", () => {
    expect(committed).toEqual(expect.arrayContaining(["Pulumi.local.yaml", "Pulumi.dev.yaml"]));
    expect(dumontConfig("Pulumi.local.yaml")).toMatchObject({ cloud: "local", gpuNames: '["RTX 4090","RTX 3090"]', diskGb: "16" });
  });

  it.each(committed)("%s passes the settings' checks", (file) => {
    const config = dumontConfig(file);
    const credentials = { VAST_API_KEY: "x", B2_KEY_ID: "y", B2_APPLICATION_KEY: "z", GCP_CREDENTIALS: "{}", GCP_PROJECT: "p" };
    expect(() => readSettings({ config: (k) => config[k], hasConfig: (k) => k in config, env: (n) => credentials[n as keyof typeof credentials] }, file.split(".")[1]!)).not.toThrow();
  });

  it.each(committed)("%s writes numbers and true/false unquoted", (file) => {
    const quoted = committedText(file)!.split("\n").filter((l) => /^ {2}dumont:\w+: "(-?\d+(\.\d+)?|true|false)"$/.test(l));
    expect(quoted).toEqual([]);
  });
});
