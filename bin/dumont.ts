#!/usr/bin/env -S node --disable-warning=ExperimentalWarning --max-semi-space-size=8
// dumont: the command line. The process's side of it: arguments in, the project's tool environment
// for the command, output and exit status out. What runs in between is bin/cli/run-cli.ts.
import { mkdirSync, statSync } from "node:fs";
import { enableCompileCache } from "node:module";
import path from "node:path";
import { checkoutStateDir } from "../lib/tools/paths.ts";

// Node keeps the code it compiled (and the TypeScript it stripped) in the checkout's private state
// folder: a command then starts in about a tenth of a second instead of a third (npm run bench:cli).
// The modules load after it is on, hence the dynamic imports.
const compileCache = path.join(checkoutStateDir, "node-compile-cache");
try {
  mkdirSync(compileCache, { recursive: true, mode: 0o700 });
  // Only a folder of this user's that no one else may write: its entries become the code that runs.
  const folder = statSync(compileCache);
  if (folder.uid === process.getuid?.() && (folder.mode & 0o022) === 0) enableCompileCache(compileCache);
} catch {
  // A read-only checkout runs without the cache.
}
const { applyToolEnvironment } = await import("../lib/tools/environment.ts");
const { runCli } = await import("./cli/run-cli.ts");
const { commands } = await import("./commands/index.ts");
const { errorContext } = await import("./error-context.ts");

process.exitCode = await runCli(process.argv.slice(2), {
  commands,
  out: (text) => console.log(text),
  err: (text) => console.error(text),
  debug: Boolean(process.env.DUMONT_DEBUG),
  errorContext: () => errorContext(),
  beforeRun: applyToolEnvironment,
});
