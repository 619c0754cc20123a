// A stack's config and outputs read from a file backend without the engine, from state and
// settings the real engine wrote (fixtures/file-backend, passphrase below): the same values
// `pulumi config --json --show-secrets` and `pulumi stack output --json --show-secrets` gave for
// them. What this reader cannot answer for certain is left to the engine (undefined).
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { readFileBackendStack } from "../../../stacks/file-backend-state.ts";

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "file-backend");
const passphrase = "correct horse battery staple";
let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

/** A copy of the fixture (so a test may change it) and the reader's arguments for it. */
function world(env: Record<string, string | undefined> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "dumont-file-backend-"));
  dirs.push(dir);
  cpSync(fixture, dir, { recursive: true });
  const read = () => readFileBackendStack("dev", path.join(dir, "Pulumi.dev.yaml"), {
    PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`, PULUMI_CONFIG_PASSPHRASE: passphrase, ...env,
  }, path.join(dir, "Pulumi.yaml"));
  return { dir, read };
}

describe("a stack read from its file backend", () => {
  it("has the engine's config values, secure ones decrypted, maps as JSON", async () => {
    expect((await world().read())?.config).toEqual({ token: String.raw`sk-"quoted"\nnot-a-newline`, nested: '{"inner":"deep"}', plain: "0.6" });
  });

  it("has the engine's outputs, secrets (also inside lists and maps) decrypted", async () => {
    expect((await world().read())?.outputs).toEqual({ activeSlot: "a", bucket: { keys: ["nested-secret"], name: "b" }, sshPrivateKey: "-----BEGIN KEY-----\nline\n" });
  });

  it("finds the passphrase in the file PULUMI_CONFIG_PASSPHRASE_FILE names, trimmed as the engine trims it", async () => {
    const { dir, read } = world({ PULUMI_CONFIG_PASSPHRASE: undefined });
    writeFileSync(path.join(dir, "phrase"), `${passphrase}\n`);
    expect((await world({ PULUMI_CONFIG_PASSPHRASE: undefined, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(dir, "phrase") }).read())?.config.plain).toBe("0.6");
    expect(await read()).toBeUndefined();
  });

  it.each<[string, (dir: string) => Record<string, string | undefined> | void]>([
    ["a wrong passphrase", () => ({ PULUMI_CONFIG_PASSPHRASE: "wrong" })],
    ["a backend that is not a folder", () => ({ PULUMI_BACKEND_URL: "s3://bucket/state" })],
    ["a relative file backend", () => ({ PULUMI_BACKEND_URL: "file://~/state" })],
    ["compressed state next to the plain one", (dir) => void writeFileSync(path.join(dir, "state/.pulumi/stacks/vec/dev.json.gz"), "")],
    ["another secrets provider in the settings", (dir) => void writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "secretsprovider: awskms://alias/x\nconfig: {}\n")],
    ["an ESC environment in the settings", (dir) => void writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "environment:\n  - prod\n")],
    ["a layout from before projects", (dir) => void writeFileSync(path.join(dir, "state/.pulumi/meta.yaml"), "version: 0\n")],
    ["a stack the backend does not have", (dir) => void rmSync(path.join(dir, "state/.pulumi/stacks/vec/dev.json"))],
  ])("is left to the engine with %s", async (_name, change) => {
    const { dir } = world();
    const env = change(dir) ?? {};
    const read = () => readFileBackendStack("dev", path.join(dir, "Pulumi.dev.yaml"), {
      PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`, PULUMI_CONFIG_PASSPHRASE: passphrase, ...env,
    }, path.join(dir, "Pulumi.yaml"));
    expect(await read()).toBeUndefined();
  });
});
