// A stack's outputs read from a file backend without the engine, from state the real engine wrote
// (fixtures/file-backend: a YAML program's outputs, secret ones among them; passphrase below): the
// same values `pulumi stack output --json --show-secrets` gave for them. What this reader cannot
// answer for certain is left to the engine (undefined).
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { readFileBackendOutputs } from "../../../stacks/file-backend-state.ts";

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "file-backend");
const passphrase = "correct horse battery staple";
const checkpoint = "state/.pulumi/stacks/vec/dev.json";
let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

/** A copy of the fixture (so a test may change it), and the reader on it with `env` over the usual settings. */
function world() {
  const dir = mkdtempSync(path.join(tmpdir(), "dumont-file-backend-"));
  dirs.push(dir);
  cpSync(fixture, dir, { recursive: true });
  const read = (env: Record<string, string | undefined> = {}) => readFileBackendOutputs("dev", {
    PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`, PULUMI_CONFIG_PASSPHRASE: passphrase, ...env,
  }, path.join(dir, "Pulumi.yaml"));
  return { dir, read };
}

describe("a stack's outputs read from its file backend", () => {
  it("are the engine's, secrets (also inside lists and maps) decrypted", async () => {
    expect(await world().read()).toEqual({ activeSlot: "a", bucket: { keys: ["nested-secret"], name: "b" }, sshPrivateKey: "-----BEGIN KEY-----\nline\n" });
  });

  it("find the passphrase in the file PULUMI_CONFIG_PASSPHRASE_FILE names, trimmed as the engine trims it", async () => {
    const { dir, read } = world();
    writeFileSync(path.join(dir, "phrase"), `${passphrase}\n`);
    expect((await read({ PULUMI_CONFIG_PASSPHRASE: undefined, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(dir, "phrase") }))?.activeSlot).toBe("a");
    expect(await read({ PULUMI_CONFIG_PASSPHRASE: undefined })).toBeUndefined();
  });

  it.each<[string, (dir: string) => Record<string, string | undefined> | void]>([
    ["a wrong passphrase", () => ({ PULUMI_CONFIG_PASSPHRASE: "wrong" })],
    ["a backend that is not a folder", () => ({ PULUMI_BACKEND_URL: "s3://bucket/state" })],
    ["a relative file backend", () => ({ PULUMI_BACKEND_URL: "file://~/state" })],
    ["compressed state next to the plain one", (dir) => void writeFileSync(path.join(dir, `${checkpoint}.gz`), "")],
    ["a layout from before projects", (dir) => void writeFileSync(path.join(dir, "state/.pulumi/meta.yaml"), "version: 0\n")],
    ["a stack the backend does not have", (dir) => void rmSync(path.join(dir, checkpoint))],
    ["state cut short", (dir) => void writeFileSync(path.join(dir, checkpoint), '{"version": 3, "checkpoint": {"lat')],
    ["another secrets provider", (dir) => void writeFileSync(path.join(dir, checkpoint), JSON.stringify({
      version: 3, checkpoint: { latest: { secrets_providers: { type: "cloud", state: {} }, resources: [{ type: "pulumi:pulumi:Stack", outputs: { k: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "x" } } }] } },
    }))],
  ])("are left to the engine with %s", async (_name, change) => {
    const { dir, read } = world();
    expect(await read(change(dir) ?? {})).toBeUndefined();
  });
});
