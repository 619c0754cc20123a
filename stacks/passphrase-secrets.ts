// Pulumi's passphrase secrets, read without the engine: a stack's secret config values and outputs
// are AES-256-GCM under a key made from the passphrase with PBKDF2-SHA256 (1,000,000 rounds, 32
// bytes) and the salt in the stack's `encryptionsalt`; each value is "v1:<nonce>:<ciphertext and
// tag>", base64 (github.com/pulumi/pulumi sdk/go/common/resource/config/crypt.go, and
// pkg/secrets/passphrase). The salt line carries "pulumi" so encrypted: a wrong passphrase is told
// from a damaged value.
import { createDecipheriv, pbkdf2 } from "node:crypto";
import { promisify } from "node:util";

const pbkdf2Async = promisify(pbkdf2);
const rounds = 1_000_000;
const keyBytes = 32;
const tagBytes = 16;

export class PassphraseMismatch extends Error {}

export interface Decrypter {
  decrypt(value: string): string;
}

/** Opens "v1:<nonce>:<sealed>" with the key; throws when the value is not one or does not open. */
function open(key: Buffer, value: string): string {
  const [version, nonce, sealed, ...rest] = value.split(":");
  if (version !== "v1" || nonce === undefined || sealed === undefined || rest.length > 0) throw new Error("not a v1 passphrase-encrypted value");
  const bytes = Buffer.from(sealed, "base64");
  if (bytes.length < tagBytes) throw new Error("a passphrase-encrypted value too short to hold its tag");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(nonce, "base64"));
  decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes));
  return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - tagBytes)), decipher.final()]).toString("utf8");
}

/**
 * The decrypter for a stack whose `encryptionsalt` is `salt` ("v1:<salt>:v1:<nonce>:<sealed>").
 * Throws PassphraseMismatch when the passphrase does not open the salt's check value.
 */
export async function passphraseDecrypter(salt: string, passphrase: string): Promise<Decrypter> {
  const [version, saltBytes, ...check] = salt.split(":");
  if (version !== "v1" || !saltBytes || check.length !== 3) throw new Error("not a v1 encryption salt");
  const key = await pbkdf2Async(passphrase, Buffer.from(saltBytes, "base64"), rounds, keyBytes, "sha256");
  let opened: string | undefined;
  try {
    opened = open(key, check.join(":"));
  } catch {
    opened = undefined;
  }
  if (opened !== "pulumi") throw new PassphraseMismatch("the passphrase does not open this stack's secrets");
  return { decrypt: (value) => open(key, value) };
}
