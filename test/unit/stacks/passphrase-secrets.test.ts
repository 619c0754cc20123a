// Pulumi's passphrase secrets opened without the engine, against values the real engine wrote
// (fixtures/file-backend: `pulumi config set --secret` and a secret output, passphrase below).
import { describe, expect, it } from "vitest";
import { PassphraseMismatch, passphraseDecrypter } from "../../../stacks/passphrase-secrets.ts";

const salt = "v1:eRJbZNh87Bg=:v1:x9rk4b0ggTc40yjS:R9QIzV1tyUa6PKcjSNskHOHU3ED1kg==";
const token = "v1:zsUjLivn19LmwSx+:Yi5V7hC0s3ShVcekdcpdrjy96v+lhdHI7nnn6z6tNWf9N1gB8saFHslx";
const passphrase = "correct horse battery staple";

describe("passphrase secrets", () => {
  it("opens a value the engine encrypted", async () => {
    expect((await passphraseDecrypter(salt, passphrase)).decrypt(token)).toBe(String.raw`sk-"quoted"\nnot-a-newline`);
  });

  it("a wrong passphrase is told apart before any value is read", async () => {
    await expect(passphraseDecrypter(salt, "wrong")).rejects.toThrow(PassphraseMismatch);
  });

  it("a value changed by one character does not open", async () => {
    const decrypter = await passphraseDecrypter(salt, passphrase);
    const tampered = token.slice(0, -6) + (token.at(-6) === "A" ? "B" : "A") + token.slice(-5);
    expect(() => decrypter.decrypt(tampered)).toThrow();
    expect(() => decrypter.decrypt("v2:abc:def")).toThrow("not a v1 passphrase-encrypted value");
  });
});
