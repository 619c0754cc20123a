// Where Dumont keeps things. `.state/` and `.tools/` are git-ignored.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Go-built tools, the Pulumi plugin cache and stamps written by setup/setup.sh (DUMONT_TOOLS_DIR moves it). */
export const toolsDir = process.env.DUMONT_TOOLS_DIR ?? path.join(repoRoot, ".tools");
/**
 * What belongs to the checkout whoever runs it: local clouds, the engine's work folders for inline
 * programs (they must sit inside the checkout to resolve its node_modules), chaos results.
 */
export const checkoutStateDir = path.join(repoRoot, ".state");
/**
 * One controller's own state: the default Pulumi file backend, the passphrase, local locks and
 * records of stacks whose backend keeps none. DUMONT_STATE_DIR moves it (a second controller on
 * the same checkout, or state kept outside it).
 */
export const stateDir = path.resolve(process.env.DUMONT_STATE_DIR ?? checkoutStateDir);
