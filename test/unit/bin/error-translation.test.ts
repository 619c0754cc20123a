// The errors a newcomer meets, as their raw text really reads (captured from Pulumi 3.259, Node 24's
// fetch and the engine's diagnostics), each translated into the one line `dumont` prints.
import { CommandError } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { firstLine, translateError, type TranslationContext } from "../../../bin/error-translation.ts";
import { DumontError, SettingError } from "../../../lib/errors.ts";

/** A CommandError as the Automation API builds it when a `pulumi` command fails (cmd.js: exec). */
function commandError(stderr: string): Error {
  const result = { stdout: "", stderr, code: -2, toString: () => `code: -2\n stdout: \n stderr: ${stderr}\n err?: \n` };
  return new (CommandError as unknown as new (r: typeof result) => Error)(result);
}

/** undici's `fetch failed`, whose cause is the socket's error. */
function fetchFailed(code: string, address: string, port: number): Error {
  const cause = Object.assign(new Error(`connect ${code} ${address}:${port}`), { code, address, port, syscall: "connect", errno: -111 });
  return new TypeError("fetch failed", { cause });
}

const engineUp = (body: string) => `Command failed with exit code 1: pulumi up --yes --skip-preview --exec-kind auto.local --stack local --non-interactive\n${body}`;

const esc = "\u001b";
const previewOfRealStackWithoutKey = `Command failed with exit code 1: pulumi preview --exec-kind auto.local --event-log tcp://127.0.0.1:34633 --stack dev --non-interactive
Previewing update (dev):

 +  pulumi:pulumi:Stack dumont-dev create error: Running program '/work/main/stacks/program.ts' failed with an unhandled exception:
 +  pulumi:pulumi:Stack dumont-dev create 1 error
Diagnostics:
  pulumi:pulumi:Stack (dumont-dev):
    error: Running program '/work/main/stacks/program.ts' failed with an unhandled exception:
    SettingError: dumont:vastApiKey (env VAST_API_KEY): the Vast.ai API key is required for cloud: real
        at needSecret ${esc}[90m(file:///work/main/stacks/${esc}[39msettings.ts:241:13${esc}[90m)${esc}[39m
        at readSettings ${esc}[90m(file:///work/main/stacks/${esc}[39msettings.ts:229:3${esc}[90m)${esc}[39m {
      exitCode: ${esc}[33m2${esc}[39m,
      hint: ${esc}[32m'pulumi config set --secret dumont:vastApiKey <value>   (or export VAST_API_KEY)'${esc}[39m,
      setting: ${esc}[32m'dumont:vastApiKey (env VAST_API_KEY)'${esc}[39m,
      [cause]: ${esc}[90mundefined${esc}[39m
    }

Resources:
    + 1 to create
    1 errored
`;

const localCloudDownInProvider = engineUp(`Updating (local):

 +  pulumi-nodejs:dynamic/dumont:SnapshotBucket env-snapshots-bucket **creating failed** error: dumont:cloud: this stack uses the local cloud 'hq', which is not running
 +  pulumi:pulumi:Stack dumont-local **creating failed** 1 error
Diagnostics:
  pulumi:pulumi:Stack (dumont-local):
    error: update failed

  pulumi-nodejs:dynamic/dumont:SnapshotBucket (env-snapshots-bucket):
    error: dumont:cloud: this stack uses the local cloud 'hq', which is not running

Resources:
    + 6 created
    2 errored
`);

const providerFailure = engineUp(`Updating (local):
Diagnostics:
  pulumi:pulumi:Stack (dumont-local):
    error: update failed

  pulumi-nodejs:dynamic/dumont:VastInstance (env-gpu-a-instance):
    error: no Vast offer matches 1x H100 with 16 GB disk at ≤ $0.6/h, reliability ≥ 0.95

Resources:
    1 errored
`);

const pluginMissing = `Command failed with exit code 1: pulumi up --yes --skip-preview --client=127.0.0.1:42989 --exec-kind auto.inline --stack smoke --non-interactive
Updating (smoke):
    pulumi:providers:command default_1_2_1  error: no resource plugin 'pulumi-resource-command' found in the workspace at version v1.2.1 or on your $PATH
Diagnostics:
  pulumi:providers:command (default_1_2_1):
    error: no resource plugin 'pulumi-resource-command' found in the workspace at version v1.2.1 or on your $PATH
`;

const withFile: TranslationContext = { passphraseSource: "/work/main/.state/pulumi-passphrase" };
const withVariable: TranslationContext = { passphraseSource: "PULUMI_CONFIG_PASSPHRASE" };
const withLocalCloud: TranslationContext = { localCloudAt: (host, port) => (host === "10.177.40.1" && port === 41001 ? "main" : undefined) };

interface Case {
  readonly what: string;
  readonly raw: unknown;
  readonly context?: TranslationContext;
  readonly line: string;
  readonly hint: RegExp;
  readonly exitCode: number;
}

const cases: readonly Case[] = [
  {
    what: "the engine missing (setup not run)",
    raw: commandError("Command failed with ENOENT: pulumi version\nspawn pulumi ENOENT"),
    line: "the Pulumi engine is not installed here (no `pulumi` in .tools/bin or on PATH)",
    hint: /npm run setup/, exitCode: 3,
  },
  {
    what: "a plugin missing",
    raw: commandError(pluginMissing),
    line: "Pulumi's resource plugin 'pulumi-resource-command' is not installed",
    hint: /npm run setup/, exitCode: 3,
  },
  {
    what: "wrong passphrase reading config (the checkout's passphrase file)",
    raw: commandError("Command failed with exit code 1: pulumi config --show-secrets --json --stack local --non-interactive\nerror: incorrect passphrase"),
    context: withFile,
    line: "PULUMI_CONFIG_PASSPHRASE_FILE: the passphrase in /work/main/.state/pulumi-passphrase does not open stack local's secrets (Pulumi: incorrect passphrase)",
    hint: /encrypted with another passphrase/, exitCode: 2,
  },
  {
    what: "wrong passphrase in a preview (a variable)",
    raw: commandError("Command failed with exit code 1: pulumi preview --exec-kind auto.local --event-log tcp://127.0.0.1:36367 --stack dev --non-interactive\nerror: getting stack configuration: get stack secrets manager: incorrect passphrase"),
    context: withVariable,
    line: "PULUMI_CONFIG_PASSPHRASE: the passphrase does not open stack dev's secrets (Pulumi: incorrect passphrase)",
    hint: /PULUMI_CONFIG_PASSPHRASE_FILE/, exitCode: 2,
  },
  {
    what: "a settings file salted by another checkout's passphrase",
    raw: commandError("Command failed with exit code 1: pulumi stack init local --non-interactive\nerror: could not create secrets manager for new stack: incorrect passphrase"),
    line: "stacks/Pulumi.local.yaml: its encryptionsalt (and any secure: values) were made with another passphrase than the one in use here",
    hint: /delete the file's encryptionsalt line/, exitCode: 2,
  },
  {
    what: "a passphrase file that does not exist",
    raw: commandError("Command failed with exit code 1: pulumi preview --stack local --non-interactive\nerror: getting stack configuration: get stack secrets manager: unable to read PULUMI_CONFIG_PASSPHRASE_FILE: open /home/me/pass: no such file or directory"),
    line: "PULUMI_CONFIG_PASSPHRASE_FILE: cannot read /home/me/pass (no such file or directory)",
    hint: /unset it/, exitCode: 2,
  },
  {
    what: "no passphrase at all (a plain shell)",
    raw: commandError("Command failed with exit code 1: pulumi preview --stack local --non-interactive\nerror: getting stack configuration: get stack secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables"),
    line: "Pulumi could not open the stack's secrets: get stack secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables",
    hint: /npx dumont env/, exitCode: 1,
  },
  {
    what: "the local cloud not running, raised in a provider inside the engine",
    raw: commandError(localCloudDownInProvider),
    line: "dumont:cloud: this stack uses the local cloud 'hq', which is not running",
    hint: /npx dumont local-cloud up --cloud hq/, exitCode: 2,
  },
  {
    what: "the local cloud not running, raised by Dumont without the cloud's flag in its hint",
    raw: new SettingError("dumont:cloud", "this stack uses the local cloud 'jny', which is not running", "start it with `npx dumont local-cloud up`"),
    line: "dumont:cloud: this stack uses the local cloud 'jny', which is not running",
    hint: /local-cloud up --cloud jny/, exitCode: 2,
  },
  {
    what: "connection refused by a local cloud that died (its endpoints file left behind)",
    raw: fetchFailed("ECONNREFUSED", "10.177.40.1", 41001),
    context: withLocalCloud,
    line: "the local cloud 'main' does not answer at 10.177.40.1:41001 (ECONNREFUSED)",
    hint: /local-cloud down && npx dumont local-cloud up/, exitCode: 1,
  },
  {
    what: "connection refused elsewhere",
    raw: fetchFailed("ECONNREFUSED", "127.0.0.1", 47123),
    context: withLocalCloud,
    line: "nothing answers at 127.0.0.1:47123 (ECONNREFUSED)",
    hint: /local-cloud status/, exitCode: 1,
  },
  {
    what: "a host name that does not resolve (the AWS SDK keeps only the text)",
    raw: Object.assign(new Error("getaddrinfo ENOTFOUND s3.us-west-999.backblazeb2.com"), { name: "Error" }),
    line: "cannot resolve s3.us-west-999.backblazeb2.com (ENOTFOUND)",
    hint: /bucketEndpoint/, exitCode: 1,
  },
  {
    what: "missing credentials for a real cloud, thrown by the program inside a preview",
    raw: commandError(previewOfRealStackWithoutKey),
    line: "pulumi preview failed: dumont:vastApiKey (env VAST_API_KEY): the Vast.ai API key is required for cloud: real",
    hint: /^pulumi config set --secret dumont:vastApiKey <value> {3}\(or export VAST_API_KEY\)$/, exitCode: 2,
  },
  {
    what: "a Vast API key refused",
    raw: Object.assign(new Error("Vast API GET /api/v0/instances/: 401 auth_error: invalid api key"), { name: "VastApiError", status: 401 }),
    line: "dumont:vastApiKey (env VAST_API_KEY): Vast.ai refused the API key (Vast API GET /api/v0/instances/: 401 auth_error: invalid api key)",
    hint: /pulumi config set --secret dumont:vastApiKey/, exitCode: 2,
  },
  {
    what: "a resource failing in the engine",
    raw: commandError(providerFailure),
    line: "pulumi up failed: no Vast offer matches 1x H100 with 16 GB disk at ≤ $0.6/h, reliability ≥ 0.95",
    hint: /engine's output above/, exitCode: 1,
  },
  {
    what: "a stack the backend does not have (plain pulumi)",
    raw: commandError("Command failed with exit code 255: pulumi stack select --stack prod --non-interactive\nerror: no stack named 'prod' found"),
    line: "--stack: stack prod does not exist in this backend yet",
    hint: /npx dumont up --stack prod/, exitCode: 2,
  },
  {
    what: "a stack's value of another type than Pulumi.yaml declares (the engine refuses it before the program runs)",
    raw: commandError("Command failed with exit code 255: pulumi preview --stack local --non-interactive\nerror: validating stack config: Stack 'local' with configuration key 'dumont:gpuCount' must be of type 'integer'"),
    line: "dumont:gpuCount (env GPU_COUNT): stacks/Pulumi.local.yaml holds a value that is not a whole number",
    hint: /pulumi config set --stack local dumont:gpuCount <value>/, exitCode: 2,
  },
  {
    what: "the engine's lock held by another process",
    raw: commandError("Command failed with exit code 255: pulumi up --stack local --non-interactive\nerror: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`."),
    line: "stack local is being changed by another process (the engine's lock)",
    hint: /pulumi cancel --stack local/, exitCode: 1,
  },
];

describe("translateError: one line that says what to do", () => {
  it.each(cases)("$what", ({ raw, context, line, hint, exitCode }) => {
    const translated = translateError(raw, context);
    expect(translated).toBeInstanceOf(DumontError);
    expect(translated!.message).toBe(line);
    expect(translated!.message).not.toContain("\n");
    expect(translated!.hint).toMatch(hint);
    expect(translated!.exitCode).toBe(exitCode);
  });

  it("leaves Dumont's own errors as they are", () => {
    const own = new SettingError("--slot", "'c' is not a slot; slots are a and b");
    expect(translateError(own)).toBe(own);
  });

  it("knows nothing of a plain bug, which is printed as its first line", () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'instanceId')\n    at somewhere");
    expect(translateError(bug)).toBeUndefined();
    expect(firstLine(bug)).toBe("TypeError: Cannot read properties of undefined (reading 'instanceId')");
  });
});
