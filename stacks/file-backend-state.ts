// A project stack's config and outputs read straight from a file backend (the local default, and
// any file:// backend), without starting the engine: `pulumi stack output` and `pulumi config`
// each start the CLI, which decrypts the same files (most of a second each, plus opening the
// stack). Read-only commands then answer in about a second. Only the layout Pulumi documents for
// self-managed backends is read (.pulumi/meta.yaml version 1: .pulumi/stacks/<project>/<stack>.json,
// checkpoint version 3) with passphrase secrets; anything else (a service or bucket backend,
// compressed state, another secrets provider, an ESC environment, a passphrase that does not
// open the stack) answers undefined and the caller asks the engine, which also explains errors.
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { repoRoot } from "../lib/tools/paths.ts";
import { passphraseDecrypter, type Decrypter } from "./passphrase-secrets.ts";

/** How Pulumi marks a secret value in state (sdk/go/common/resource/sig: Secret). */
const secretSignature = "4dabf18193072939515e22adb298388d";
const secretSignatureValue = "1b47061264138c4ac30d75fd1eb44270";
/** Top-level keys of a stack settings file this reader understands. */
const understoodStackFileKeys = new Set(["config", "encryptionsalt"]);

export interface StoredStack {
  /** `dumont:` config values as text (lists and maps as JSON), as `pulumi config --json` gives them. */
  readonly config: Record<string, string>;
  /** The root stack's outputs, secrets decrypted. */
  readonly outputs: Record<string, unknown>;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

async function readText(file: string): Promise<string | undefined> {
  return readFile(file, "utf8").catch(() => undefined);
}

/** The passphrase as the engine finds it: PULUMI_CONFIG_PASSPHRASE, else the file PULUMI_CONFIG_PASSPHRASE_FILE names (trimmed). */
async function passphrase(env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return env.PULUMI_CONFIG_PASSPHRASE;
  const file = env.PULUMI_CONFIG_PASSPHRASE_FILE;
  return file ? (await readText(path.resolve(file)))?.trim() : undefined;
}

/** A config value as text: secure leaves decrypted, lists and maps as JSON (what the engine reports). */
function configText(value: unknown, decrypter: () => Decrypter): string {
  const plain = (v: unknown): unknown => {
    if (isRecord(v) && Object.keys(v).length === 1 && typeof v.secure === "string") return decrypter().decrypt(v.secure);
    if (Array.isArray(v)) return v.map(plain);
    if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
  };
  const value_ = plain(value);
  return typeof value_ === "string" ? value_ : typeof value_ === "object" && value_ !== null ? JSON.stringify(value_) : String(value_);
}

/** An output value with every secret in it decrypted (state marks them with the secret signature). */
function outputValue(value: unknown, decrypter: () => Decrypter): unknown {
  if (Array.isArray(value)) return value.map((v) => outputValue(v, decrypter));
  if (!isRecord(value)) return value;
  if (value[secretSignature] === secretSignatureValue) {
    const text = typeof value.ciphertext === "string" ? decrypter().decrypt(value.ciphertext) : value.plaintext;
    if (typeof text !== "string") throw new Error("a secret in state holds neither ciphertext nor plaintext");
    return outputValue(JSON.parse(text), decrypter);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, outputValue(v, decrypter)]));
}

/**
 * The stack's config and outputs from its file backend, or undefined when this reader cannot
 * answer for certain (the caller then starts the engine). `stackFile` is the stack's settings file,
 * `projectFile` the project's Pulumi.yaml (its name is the state's folder).
 */
export async function readFileBackendStack(
  stack: string, stackFile: string, env: Readonly<Record<string, string | undefined>>, projectFile = path.join(repoRoot, "Pulumi.yaml"),
): Promise<StoredStack | undefined> {
  const backend = env.PULUMI_BACKEND_URL;
  // An absolute folder only: Pulumi reads "file://~" and relative forms its own way.
  if (!backend?.startsWith("file:///") || backend.includes("?")) return undefined;
  const root = path.join(fileURLToPath(backend), ".pulumi");
  const [project, meta, settingsText] = await Promise.all([readText(projectFile), readText(path.join(root, "meta.yaml")), readText(stackFile)]);
  if (project === undefined || meta === undefined || settingsText === undefined) return undefined;
  const projectName: unknown = (parseYaml(project) as Record<string, unknown> | null)?.name;
  if (typeof projectName !== "string" || (parseYaml(meta) as Record<string, unknown> | null)?.version !== 1) return undefined;
  const checkpointFile = path.join(root, "stacks", projectName, `${stack}.json`);
  if (existsSync(`${checkpointFile}.gz`) || existsSync(`${checkpointFile}.zst`)) return undefined;
  const settings: unknown = parseYaml(settingsText) ?? {};
  if (!isRecord(settings) || Object.keys(settings).some((key) => !understoodStackFileKeys.has(key))) return undefined;
  const configEntries = settings.config ?? {};
  if (!isRecord(configEntries) || Object.keys(configEntries).some((key) => !key.includes(":"))) return undefined;
  const checkpointText = await readText(checkpointFile);
  if (checkpointText === undefined) return undefined;
  const state = JSON.parse(checkpointText) as { version?: number; checkpoint?: { latest?: { secrets_providers?: { type?: string; state?: { salt?: string } }; resources?: { type?: string; parent?: string; outputs?: Record<string, unknown> }[] } } };
  if (state.version !== 3) return undefined;
  const latest = state.checkpoint?.latest;
  const provider = latest?.secrets_providers;
  if (provider && provider.type !== "passphrase") return undefined;
  const salt = typeof settings.encryptionsalt === "string" ? settings.encryptionsalt : provider?.state?.salt;

  // The key takes a third of a second to make: only when a secret is read.
  let decrypter: Decrypter | undefined;
  const secretsNeeded = checkpointText.includes(secretSignature) || /\bsecure:/.test(settingsText);
  if (secretsNeeded) {
    const phrase = await passphrase(env);
    if (salt === undefined || phrase === undefined) return undefined;
    decrypter = await passphraseDecrypter(salt, phrase).catch(() => undefined);
    if (!decrypter) return undefined;
  }
  const use = (): Decrypter => {
    if (!decrypter) throw new Error("a secret where none was expected");
    return decrypter;
  };
  try {
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(configEntries)) {
      if (key.startsWith("dumont:")) config[key.slice("dumont:".length)] = configText(value, use);
    }
    const roots = (latest?.resources ?? []).filter((r) => r.type === "pulumi:pulumi:Stack" && !r.parent);
    if (roots.length > 1) return undefined;
    const outputs = outputValue(roots[0]?.outputs ?? {}, use) as Record<string, unknown>;
    return { config, outputs };
  } catch {
    return undefined;
  }
}
