// Unit tests mirror the sources: the tests of X/y.ts (X under bin/, components/, contract/, harness/ or stacks/)
// are in test/unit/X/y.test.ts, so that whoever changes a file finds its tests, and a test file is
// named for the one file it tests. A test file with no source at its mirrored path fails here,
// unless it is one of the few exceptions below, each with its reason.
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../../lib/tools/paths.ts";

const unitDir = path.join(repoRoot, "test", "unit");
const sourceRoots = ["bin", "lib", "dataplane", "clouds", "contract", "components", "stacks", "harness", "local-cloud", "pulumi-package"];

/**
 * Test files (relative to test/unit; an entry ending in "/" covers a folder) that test no single
 * source file, or are not at their mirrored path yet; each with why.
 */
const exceptions: Readonly<Record<string, string>> = {
  "docs/readme-blocks.test.ts": "checks the README's shell blocks, not a source file",
  "docs/test-layout.test.ts": "this check: the layout of test/unit itself",
  "docs/dependency-directions.test.ts": "checks the README's dependency directions on every import, not a source file",
  "stacks/stack-settings-files.test.ts": "checks the committed stacks/Pulumi.<stack>.yaml files, not a source file",
  "stacks/snapshot-prefix-and-https.test.ts": "tests stacks/settings.ts (snapshot prefix, https-only endpoints); to be merged into stacks/settings.test.ts",
};

/** The exception that covers a test file, if any. */
const exceptionFor = (file: string) => Object.keys(exceptions).find((entry) => (entry.endsWith("/") ? file.startsWith(entry) : file === entry));

/** Every file under `dir` whose name ends with `suffix`, relative to `dir`, in "/" form. */
function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort();
}

/** The source file a unit test file mirrors: test/unit/X/y.test.ts tests X/y.ts. */
const mirroredSource = (testFile: string) => testFile.replace(/\.test\.ts$/, ".ts");
const hasSource = (testFile: string) => {
  const source = mirroredSource(testFile);
  return sourceRoots.includes(source.split("/")[0]!) && existsSync(path.join(repoRoot, source));
};

describe("the unit tests' layout", () => {
  const testFiles = filesUnder(unitDir, ".test.ts");

  it("finds the unit tests", () => {
    expect(testFiles.length).toBeGreaterThan(40);
    expect(testFiles).toContain("docs/test-layout.test.ts");
  });

  it("every unit test file sits at the path of the source file it tests", () => {
    const astray = testFiles
      .filter((file) => exceptionFor(file) === undefined && !hasSource(file))
      .map((file) => `test/unit/${file}: there is no ${mirroredSource(file)}; the tests of X/y.ts go in test/unit/X/y.test.ts`);
    expect(astray, "unit test files with no source file at their mirrored path").toEqual([]);
  });

  it("every exception names a test file that exists and does not mirror a source, with a reason", () => {
    const stale = Object.entries(exceptions)
      .filter(([entry, reason]) => !testFiles.some((file) => exceptionFor(file) === entry && !hasSource(file)) || reason.trim() === "")
      .map(([entry]) => `${entry}: covers no test file that lacks a mirrored source, or gives no reason; remove the exception or move the file`);
    expect(stale).toEqual([]);
  });

  it("every stored snapshot belongs to the test file next to its __snapshots__ folder", () => {
    const orphans = filesUnder(unitDir, ".snap")
      .filter((snap) => {
        const [, dir, name] = /^(?:(.*)\/)?__snapshots__\/(.+)\.snap$/.exec(snap) ?? [];
        return name === undefined || !existsSync(path.join(unitDir, dir ?? "", name));
      })
      .map((snap) => `test/unit/${snap}`);
    expect(orphans, "snapshot files whose test file moved or is gone").toEqual([]);
  });
});
