// Loaded with `node --import` into a child process: at exit, prints on stderr the line
// "loaded-packages <json>" naming every npm package the process loaded, so a test can say which
// ones a command needed.
import { registerHooks } from "node:module";

const packages = new Set<string>();
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(resolved.url);
    if (match) packages.add(match[1]!);
    return resolved;
  },
});
process.on("exit", () => process.stderr.write(`loaded-packages ${JSON.stringify([...packages].sort())}\n`));
