// The directions the README's "Architecture" writes down, checked on every import: a file that
// imports against them fails here, naming the import.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const repo = path.resolve(import.meta.dirname, "../../..");

/** What each folder may import besides itself (the README's table). */
const allowed: Readonly<Record<string, readonly string[]>> = {
  lib: [],
  contract: ["lib", "local-cloud interface"],
  dataplane: ["lib", "contract"],
  clouds: ["lib", "contract", "dataplane", "local-cloud interface"],
  components: ["lib", "contract", "dataplane", "clouds", "local-cloud interface"],
  stacks: ["lib", "contract", "dataplane", "clouds", "components", "local-cloud interface"],
  "local-cloud": ["lib", "dataplane"],
  "pulumi-package": ["lib", "contract", "dataplane", "clouds", "components", "stacks", "local-cloud interface"],
  harness: ["lib", "contract", "dataplane", "clouds", "components", "stacks", "local-cloud", "local-cloud interface"],
  bin: ["lib", "contract", "dataplane", "clouds", "components", "stacks", "local-cloud", "local-cloud interface", "harness"],
};

/**
 * The local cloud is one of the clouds a stack may live in: product code reaches it through these
 * files only (where it is, its names, its admin API), never its internals.
 */
const localCloudInterface = new Set(["local-cloud/endpoints.ts", "local-cloud/names.ts", "local-cloud/admin-client.ts"]);

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(repo, folder), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => path.join(folder, f));
}

/** Relative specifiers of a file's static and dynamic imports and of `new URL(…, import.meta.url)`. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(repo, file), "utf8");
  const specifier = /(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']|new URL\(\s*["'](\.{1,2}\/[^"']+)["']/g;
  return [...text.matchAll(specifier)].map((m) => path.normalize(path.join(path.dirname(file), m[1] ?? m[2]!)));
}

function layerOf(target: string): string {
  if (localCloudInterface.has(target)) return "local-cloud interface";
  return target.split(path.sep)[0]!;
}

describe("dependency directions", () => {
  it("every import points the way the README says", () => {
    const wrong: string[] = [];
    for (const [folder, may] of Object.entries(allowed)) {
      for (const file of sourceFiles(folder)) {
        for (const target of importsOf(file)) {
          const layer = layerOf(target);
          if (target.split(path.sep)[0] === folder || may.includes(layer)) continue;
          wrong.push(`${file} imports ${target} (${folder} may import ${may.join(", ") || "nothing else"})`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("knows every top-level folder of code", () => {
    const folders = readdirSync(repo, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith(".") && !["node_modules", "test", "setup", "examples"].includes(d.name))
      .map((d) => d.name)
      .filter((d) => sourceFiles(d).length > 0);
    expect(folders.sort()).toEqual(Object.keys(allowed).sort());
  });

  it("would catch a wrong import", () => {
    expect(layerOf("stacks/watch.ts")).toBe("stacks");
    expect(allowed.components).not.toContain("stacks");
    expect(allowed.lib).toEqual([]);
    expect(layerOf("local-cloud/endpoints.ts")).toBe("local-cloud interface");
    expect(layerOf("local-cloud/cloud.ts")).toBe("local-cloud");
  });
});
