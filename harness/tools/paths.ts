// Where Dumont keeps things inside a checkout. Both folders are git-ignored.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Go-built tools, the Pulumi plugin cache and stamps written by setup/setup.sh (DUMONT_TOOLS_DIR moves it). */
export const toolsDir = process.env.DUMONT_TOOLS_DIR ?? path.join(repoRoot, ".tools");
/** Runtime state: the Pulumi file backend, the local cloud, generated secrets. */
export const stateDir = path.join(repoRoot, ".state");
