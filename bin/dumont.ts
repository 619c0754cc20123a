#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --disable-warning=ExperimentalWarning --max-semi-space-size=8 --expose-gc
// dumont: the command line. The process's side of it: arguments in, the project's tool environment
// for the command, output and exit status out. What runs in between is bin/cli/run-cli.ts.
import { enableCheckoutCompileCache } from "../lib/tools/compile-cache.ts";

// The modules load after the compile cache is on, hence the dynamic imports.
enableCheckoutCompileCache();
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
