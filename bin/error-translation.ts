// The errors a newcomer meets that do not come from Dumont's own checks — Pulumi's CLI refusing a
// passphrase, the engine or a plugin missing, nothing listening where the local cloud was, a cloud
// refusing a key, a failure inside the engine's run of the program — recognized by their text and
// turned into one DumontError line that says what to do. Pure: bin/error-report.ts applies it.
import { DumontError, EnvironmentError, SettingError, UserError } from "../lib/errors.ts";
import { valueKinds } from "../contract/setting-check.ts";
import { declarations, settingLabel, type SettingKey } from "../contract/settings-schema.ts";

export interface TranslationContext {
  /** The local cloud serving at host:port, if one is known to (it names a refused connection). */
  readonly localCloudAt?: (host: string, port: number) => string | undefined;
  /** Where the stack passphrase came from, for messages: "PULUMI_CONFIG_PASSPHRASE" or a file's path. */
  readonly passphraseSource?: string;
}

const setupHint = "run `npm run setup` in the checkout (it builds the Pulumi engine into .tools/; minutes the first time, a no-op after)";

// eslint-disable-next-line no-control-regex
const ansi = /\u001b\[[0-9;]*[A-Za-z]/g;

/** Codes of a connection that failed, from Node's sockets, DNS and undici (fetch). */
const networkCodes = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

interface Described {
  /** Every message and stderr text in the error and its causes, without colours. */
  readonly text: string;
  /** Network error codes (ECONNREFUSED …) with the address they were about, from the error or its causes. */
  readonly network?: { readonly code: string; readonly host?: string; readonly port?: number };
  readonly name: string;
  readonly status?: number;
  /** An S3 service error from the AWS SDK (it carries `$metadata`): its name and HTTP status. */
  readonly objectStore?: { readonly name: string; readonly status?: number };
}

/** Collects what an error says, through `cause`, AggregateError's `errors` and Pulumi's CommandError result. */
function describe(error: unknown): Described {
  const texts: string[] = [];
  let network: Described["network"];
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number) => {
    if (e === null || e === undefined || seen.has(e) || depth > 6) return;
    seen.add(e);
    if (typeof e !== "object") {
      texts.push(String(e));
      return;
    }
    const o = e as { message?: unknown; code?: unknown; address?: unknown; hostname?: unknown; port?: unknown; cause?: unknown; errors?: unknown; commandResult?: { stderr?: unknown; stdout?: unknown } };
    if (typeof o.message === "string") texts.push(o.message);
    if (o.commandResult) texts.push(String(o.commandResult.stderr ?? ""), String(o.commandResult.stdout ?? ""));
    if (!network && typeof o.code === "string" && networkCodes.has(o.code)) {
      const host = typeof o.address === "string" ? o.address : typeof o.hostname === "string" ? o.hostname : undefined;
      network = { code: o.code, host, port: typeof o.port === "number" ? o.port : undefined };
    }
    visit(o.cause, depth + 1);
    if (Array.isArray(o.errors)) for (const inner of o.errors) visit(inner, depth + 1);
  };
  visit(error, 0);
  const text = texts.join("\n").replace(ansi, "");
  if (!network) {
    // Inside the engine's output, or an SDK that kept only the text: "connect ECONNREFUSED 10.0.0.1:9000".
    const m = /\b(ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET) (\[?[\w.:-]+?\]?):(\d+)\b/.exec(text);
    if (m) network = { code: m[1]!, host: m[2]!.replace(/^\[|\]$/g, ""), port: Number(m[3]) };
    const dns = /\b(ENOTFOUND|EAI_AGAIN) ([\w.-]+)/.exec(text);
    if (!network && dns) network = { code: dns[1]!, host: dns[2] };
  }
  const e = error as { name?: unknown; status?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const name = typeof e?.name === "string" ? e.name : "Error";
  const objectStore = e?.$metadata && typeof e.$metadata === "object" ? { name, status: typeof e.$metadata.httpStatusCode === "number" ? e.$metadata.httpStatusCode : undefined } : undefined;
  return { text, network, name, status: typeof e?.status === "number" ? e.status : undefined, objectStore };
}

/** The stack a failed Pulumi command was about: `… --stack NAME …` (or `stack init NAME`) in its command line. */
function stackOf(text: string): string | undefined {
  return /(?:--stack|pulumi stack init) (\S+)/.exec(text)?.[1];
}

/** The operation of a failed Pulumi command: "up", "preview" … */
function pulumiOperation(text: string): string | undefined {
  return /Command failed with exit code \d+: pulumi (\w+)/.exec(text)?.[1];
}

/**
 * The line that says why an engine run failed, from its Diagnostics: the first error that is not
 * the summary ("update failed") or the wrapper around a program's exception (whose next line,
 * "SettingError: …", is the reason). A Dumont error thrown in the program keeps its hint.
 */
export function engineFailure(text: string): { line: string; hint?: string; errorName?: string; exitCode?: number } | undefined {
  const diagnostics = text.slice(Math.max(0, text.indexOf("Diagnostics:")));
  const unhandled = diagnostics.indexOf("failed with an unhandled exception");
  if (unhandled !== -1) {
    const after = diagnostics.slice(unhandled);
    const thrown = /^\s*(\w*Error): (.+)$/m.exec(after);
    if (thrown) {
      const hint = /^\s*hint: '((?:[^'\\]|\\.)*)'/m.exec(after)?.[1]?.replace(/\\'/g, "'");
      // The engine prints the thrown error's fields: a DumontError's exit status comes with it.
      const exitCode = /^\s*exitCode: (\d+),?$/m.exec(after)?.[1];
      return { line: thrown[2]!.trim(), hint, errorName: thrown[1], exitCode: exitCode === undefined ? undefined : Number(exitCode) };
    }
  }
  const lines = [...diagnostics.matchAll(/^\s*error: (.+)$/gm)].map((m) => m[1]!.trim());
  const line = lines.find((l) => !/^(update|preview|refresh|destroy) failed$|^an unhandled error occurred|failed with an unhandled exception/i.test(l));
  return line ? { line } : undefined;
}

function localCloudFlag(cloud: string): string {
  return cloud === "main" ? "" : ` --cloud ${cloud}`;
}

/** A stack's local cloud is not running: the command that starts that cloud (not always `main`). */
function localCloudNotRunning(text: string): SettingError | undefined {
  const m = /uses the local cloud '([\w-]+)', which is not running/.exec(text);
  return m ? new SettingError("dumont:cloud", `this stack uses the local cloud '${m[1]}', which is not running`, `start it with \`npx dumont local-cloud up${localCloudFlag(m[1]!)}\``) : undefined;
}

type Rule = (d: Described, context: TranslationContext) => DumontError | undefined;

/** In order: the first rule that recognizes the error translates it. */
const rules: readonly Rule[] = [
  // `pulumi` is not on PATH: setup never ran, or a shell without `eval "$(npx dumont env)"`.
  (d) => /spawn pulumi ENOENT|ENOENT: pulumi version|pulumi: (command )?not found/.test(d.text)
    ? new EnvironmentError("the Pulumi engine is not installed here (no `pulumi` in .tools/bin or on PATH)", setupHint)
    : undefined,
  (d) => {
    const m = /no (resource|language) plugin '([^']+)' found/.exec(d.text);
    return m ? new EnvironmentError(`Pulumi's ${m[1]} plugin '${m[2]}' is not installed`, setupHint) : undefined;
  },
  // A settings file whose encryptionsalt another checkout's passphrase made (committed, or copied),
  // met by a backend that has no such stack yet.
  (d) => {
    if (!/could not create secrets manager for new stack: incorrect passphrase/.test(d.text)) return undefined;
    const stack = stackOf(d.text) ?? "<stack>";
    return new SettingError(
      `stacks/Pulumi.${stack}.yaml`, "its encryptionsalt (and any secure: values) were made with another passphrase than the one in use here",
      "use that passphrase (PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE), or delete the file's encryptionsalt line and secure: values and set those secrets again",
    );
  },
  (d, c) => {
    if (!/incorrect passphrase/i.test(d.text)) return undefined;
    const stack = stackOf(d.text);
    return new SettingError(
      c.passphraseSource === "PULUMI_CONFIG_PASSPHRASE" ? "PULUMI_CONFIG_PASSPHRASE" : "PULUMI_CONFIG_PASSPHRASE_FILE",
      `${c.passphraseSource && c.passphraseSource !== "PULUMI_CONFIG_PASSPHRASE" ? `the passphrase in ${c.passphraseSource}` : "the passphrase"} does not open ${stack ? `stack ${stack}'s` : "the stack's"} secrets (Pulumi: incorrect passphrase)`,
      "the secrets were encrypted with another passphrase: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE to that one; unset, Dumont uses this checkout's .state/pulumi-passphrase",
    );
  },
  (d) => {
    const m = /unable to read PULUMI_CONFIG_PASSPHRASE_FILE: open ([^:\n]+): ([^\n]+)/.exec(d.text);
    return m ? new SettingError("PULUMI_CONFIG_PASSPHRASE_FILE", `cannot read ${m[1]} (${m[2]!.trim()})`, "point it at the file that holds the stack's passphrase, or unset it to use this checkout's .state/pulumi-passphrase") : undefined;
  },
  (d) => {
    const m = /(?:could not create secrets manager|constructing secrets manager[^:\n]*|get stack secrets manager|passphrase must be set)[^\n]*/i.exec(d.text);
    return m ? new DumontError(`Pulumi could not open the stack's secrets: ${m[0].trim()}`, {
      hint: "Dumont passes the passphrase (PULUMI_CONFIG_PASSPHRASE_FILE=.state/pulumi-passphrase) itself; a plain `pulumi` needs `eval \"$(npx dumont env)\"` first",
    }) : undefined;
  },
  // Raised inside the engine (a provider's configure), where the hint of the SettingError was lost.
  (d) => localCloudNotRunning(d.text),
  (d) => {
    if (!/the stack is currently locked by|Another update is currently in progress/.test(d.text)) return undefined;
    const stack = stackOf(d.text) ?? "<stack>";
    return new DumontError(`stack ${stack} is being changed by another process (the engine's lock)`, {
      hint: `wait for it to finish; if that process is gone: eval "$(npx dumont env)"; pulumi cancel --stack ${stack}`,
    });
  },
  (d) => {
    const m = /no stack named '([^']+)' found/.exec(d.text);
    return m ? new SettingError("--stack", `stack ${m[1]} does not exist in this backend yet`, `\`npx dumont up --stack ${m[1]}\` creates it (PULUMI_BACKEND_URL, if you set one, chooses the backend)`) : undefined;
  },
  (d) => d.name === "VastApiError" && (d.status === 401 || d.status === 403 || /auth_error/.test(d.text))
    ? new SettingError(settingLabel("vastApiKey"), `Vast.ai refused the API key (${d.text.split("\n")[0]})`, "check the key at https://cloud.vast.ai/account/ and set it: pulumi config set --secret dumont:vastApiKey <key>")
    : undefined,
  (d) => /\b(InvalidAccessKeyId|SignatureDoesNotMatch)\b/.test(d.text)
    ? new SettingError("dumont:bucketKeyId / dumont:bucketApplicationKey (env B2_KEY_ID / B2_APPLICATION_KEY)", "the object store refused the key", "set the B2 application key id and key the bucket belongs to")
    : undefined,
  (d, c) => {
    const n = d.network;
    if (!n || !n.host) return undefined;
    const where = n.port === undefined ? n.host : `${n.host}:${n.port}`;
    const cloud = n.port === undefined ? undefined : c.localCloudAt?.(n.host, n.port);
    if (cloud) {
      const flag = localCloudFlag(cloud);
      return new DumontError(`the local cloud '${cloud}' does not answer at ${where} (${n.code})`, {
        hint: `see \`npx dumont local-cloud status${flag}\`; restart it with \`npx dumont local-cloud down${flag} && npx dumont local-cloud up${flag}\``,
      });
    }
    const what = n.code === "ECONNREFUSED" ? "nothing answers at" : n.code === "ENOTFOUND" || n.code === "EAI_AGAIN" ? "cannot resolve" : "cannot reach";
    return new DumontError(`${what} ${where} (${n.code})`, {
      hint: "a stack on the local cloud: is it running (`npx dumont local-cloud status`)? On the real clouds: the network, and dumont:vastUrl / dumont:bucketEndpoint",
    });
  },
  // A provider's API that failed outside the engine (inside it, the engine's report below names it).
  (d) => d.name === "VastApiError"
    ? new EnvironmentError(`Vast.ai's API failed: ${d.text.split("\n")[0]}`, "Vast.ai may be having trouble: try again in a few minutes; on the local cloud, see `npx dumont local-cloud status`")
    : undefined,
  (d) => d.objectStore
    ? new EnvironmentError(
      `the object store refused a request: ${d.objectStore.name}${d.objectStore.status ? ` (HTTP ${d.objectStore.status})` : ""}: ${d.text.split("\n")[0]}`,
      "check the stack's bucket settings (dumont:bucketName, dumont:bucketEndpoint) and what its key may do; on the local cloud, see `npx dumont local-cloud status`",
    )
    : undefined,
  // Pulumi.yaml types the settings it declares (contract/settings-project-config.ts): the engine
  // refuses a stack's value of another type before the program runs.
  (d) => {
    const m = /Stack '([^']+)' with configuration key 'dumont:(\w+)' must be of type '([^']+)'/.exec(d.text);
    if (!m) return undefined;
    const [stack, key, type] = [m[1]!, m[2]!, m[3]!];
    const setting = Object.hasOwn(declarations, key) ? settingLabel(key as SettingKey) : `dumont:${key}`;
    const kind = Object.hasOwn(valueKinds, type) ? valueKinds[type as keyof typeof valueKinds] : type;
    return new SettingError(setting, `stacks/Pulumi.${stack}.yaml holds a value that is not ${kind}`, `set it again: pulumi config set --stack ${stack} dumont:${key} <value>`);
  },
  // Anything else the engine reported: its first real error line (the engine's output above has the rest).
  (d) => {
    const operation = pulumiOperation(d.text);
    if (!operation) return undefined;
    const failure = engineFailure(d.text);
    if (!failure) return undefined;
    const message = `pulumi ${operation} failed: ${failure.line}`;
    const hint = failure.hint ?? "the engine's output above shows which resource failed and why";
    // Who can fix it is what the program's error said (its exit status), or a setting's.
    const exitCode = failure.exitCode ?? (failure.errorName === "SettingError" ? 2 : 1);
    if (exitCode === 2) return new UserError(message, hint);
    return exitCode === 3 ? new EnvironmentError(message, hint) : new DumontError(message, { exitCode, hint });
  },
];

/** A DumontError for an error Dumont did not raise itself, or undefined when none of the rules knows it. */
export function translateError(error: unknown, context: TranslationContext = {}): DumontError | undefined {
  // Dumont's own errors say what to do already; one raised where the cloud's name was not at hand gets it.
  if (error instanceof DumontError) return (error instanceof SettingError && localCloudNotRunning(error.message)) || error;
  const described = describe(error);
  for (const rule of rules) {
    const translated = rule(described, context);
    if (translated) return translated;
  }
  return undefined;
}

/** The first line of an error nobody translated, for the one line printed when not debugging. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(ansi, "").split("\n").map((l) => l.trim()).find(Boolean) ?? "unknown error";
}
