// A project stack's outputs read straight from a file backend (the local default, and any
// file:/// backend), without opening the stack in the engine: the engine's own read (`pulumi stack
// output`) starts the CLI, selects the stack and decrypts the same file. Only the layout Pulumi
// documents for self-managed backends is read (.pulumi/meta.yaml version 1:
// .pulumi/stacks/<project>/<stack>.json, checkpoint version 3) with passphrase secrets; anything
// else (a service or bucket backend, compressed state, another secrets provider, a passphrase that
// does not open the state, a file that does not parse) answers undefined and the caller asks the
// engine, which also explains errors. The stack's config is the engine's to read
// (stacks/stack-config.ts): YAML scalars and project-level settings have rules of its own.
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { repoRoot } from "../lib/tools/paths.ts";
import { passphraseDecrypter, type Decrypter } from "./passphrase-secrets.ts";

/** How Pulumi marks a secret value in state (sdk/go/common/resource/sig: Secret). */
const secretSignature = "4dabf18193072939515e22adb298388d";
const secretSignatureValue = "1b47061264138c4ac30d75fd1eb44270";

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

/** The project's name (Pulumi.yaml `name:`): the state's folder. Undefined when the line is not plain. */
function projectName(text: string): string | undefined {
  return /^name:[ \t]*([A-Za-z0-9_.-]+)[ \t]*$/m.exec(text)?.[1];
}

/**
 * The root stack's outputs (secrets decrypted) from its file backend, or undefined when this reader
 * cannot answer for certain (the caller then asks the engine).
 */
export async function readFileBackendOutputs(
  stack: string, env: Readonly<Record<string, string | undefined>>, projectFile = path.join(repoRoot, "Pulumi.yaml"),
): Promise<Record<string, unknown> | undefined> {
  try {
    const backend = env.PULUMI_BACKEND_URL;
    // An absolute folder only: Pulumi reads "file://~" and relative forms its own way.
    if (!backend?.startsWith("file:///") || backend.includes("?")) return undefined;
    const root = path.join(fileURLToPath(backend), ".pulumi");
    const [project, meta] = await Promise.all([readText(projectFile), readText(path.join(root, "meta.yaml"))]);
    const name = project === undefined ? undefined : projectName(project);
    if (name === undefined || meta === undefined || !/^version:[ \t]*1[ \t]*$/m.test(meta)) return undefined;
    const checkpointFile = path.join(root, "stacks", name, `${stack}.json`);
    if (existsSync(`${checkpointFile}.gz`) || existsSync(`${checkpointFile}.zst`)) return undefined;
    const checkpointText = await readText(checkpointFile);
    if (checkpointText === undefined) return undefined;
    const state = JSON.parse(checkpointText) as {
      version?: number;
      checkpoint?: { latest?: { secrets_providers?: { type?: string; state?: { salt?: string } }; resources?: { type?: string; parent?: string; outputs?: Record<string, unknown> }[] } };
    };
    if (state.version !== 3) return undefined;
    const latest = state.checkpoint?.latest;
    const roots = (latest?.resources ?? []).filter((r) => r.type === "pulumi:pulumi:Stack" && !r.parent);
    if (roots.length > 1) return undefined;
    const outputs = roots[0]?.outputs ?? {};

    // The key takes a third of a second to make: only when a secret is read.
    let decrypter: Decrypter | undefined;
    if (JSON.stringify(outputs).includes(secretSignature)) {
      const provider = latest?.secrets_providers;
      const salt = provider?.state?.salt;
      const phrase = await passphrase(env);
      if (provider?.type !== "passphrase" || salt === undefined || phrase === undefined) return undefined;
      decrypter = await passphraseDecrypter(salt, phrase);
    }
    return outputValue(outputs, () => {
      if (!decrypter) throw new Error("a secret where none was expected");
      return decrypter;
    }) as Record<string, unknown>;
  } catch {
    // Whatever does not read as expected (a file cut short mid-write, a wrong passphrase) is the engine's to explain.
    return undefined;
  }
}
