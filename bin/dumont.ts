#!/usr/bin/env -S node --disable-warning=ExperimentalWarning
// dumont: the command line. The process's side of it: arguments in, the project's tool environment
// for the command, output and exit status out. What runs in between is bin/cli/run-cli.ts.
import { applyToolEnvironment } from "../lib/tools/environment.ts";
import { runCli } from "./cli/run-cli.ts";
import { commands } from "./commands/index.ts";
import { errorContext } from "./error-context.ts";

process.exitCode = await runCli(process.argv.slice(2), {
  commands,
  out: (text) => console.log(text),
  err: (text) => console.error(text),
  debug: Boolean(process.env.DUMONT_DEBUG),
  errorContext: () => errorContext(),
  beforeRun: applyToolEnvironment,
});
