// Every ed25519 key pair Dumont makes in process (run keys, GPU host keys, throwaway logins).
//
// ssh2 (through 1.17) strips every leading zero byte of the public key it writes, where it means to
// strip one byte of padding (mscdex/ssh2#1390): one key in 256 comes out with a 31-byte public key,
// in the public line and inside the private file, and OpenSSH refuses that file ("Load key …:
// error in libcrypto"). Such a pair is thrown away and another made.
import ssh2 from "ssh2";

/** An ed25519 public key blob: string "ssh-ed25519" (4 + 11 bytes), string key (4 + 32). */
const ed25519BlobBytes = 4 + 11 + 4 + 32;

export interface KeyPair {
  /** The private key, in OpenSSH's format. */
  readonly private: string;
  /** `ssh-ed25519 AAAA… comment`, without a trailing newline. */
  readonly public: string;
}

/** Whether an OpenSSH public key line carries a whole ed25519 key. */
export function isWholeEd25519(publicLine: string): boolean {
  const body = publicLine.trim().split(/\s+/)[1] ?? "";
  return Buffer.from(body, "base64").length === ed25519BlobBytes;
}

export function newEd25519Pair(comment?: string): KeyPair {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync("ed25519", comment === undefined ? {} : { comment });
    if (isWholeEd25519(pair.public)) return { private: pair.private, public: pair.public.trim() };
  }
}
