// Key pairs OpenSSH can read: ssh2's generator writes one ed25519 key in 256 with a truncated public
// key (a leading zero byte dropped), which ssh and sshd refuse; Dumont's never does.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import ssh2 from "ssh2";
import { describe, expect, it } from "vitest";
import { isWholeEd25519, newEd25519Pair } from "../../../../dataplane/ssh/key-pair.ts";

describe("newEd25519Pair", () => {
  it("never hands out a key whose public half lost a byte (3,000 pairs: about 12 would have)", () => {
    for (let i = 0; i < 3000; i++) {
      const pair = newEd25519Pair("dumont-test");
      expect(isWholeEd25519(pair.public)).toBe(true);
      const parsed = ssh2.utils.parseKey(pair.private);
      if (parsed instanceof Error) throw parsed;
      expect(parsed.getPublicSSH().toString("base64")).toBe(pair.public.split(" ")[1]);
    }
  });

  it("tells a truncated public key from a whole one", () => {
    const whole = newEd25519Pair().public;
    const blob = Buffer.from(whole.split(" ")[1]!, "base64");
    // The blob ssh2 writes when the key starts with a zero byte: its length field says 31.
    const truncated = Buffer.concat([blob.subarray(0, 15), Buffer.from([0, 0, 0, 31]), blob.subarray(20)]);
    expect(isWholeEd25519(`ssh-ed25519 ${truncated.toString("base64")}`)).toBe(false);
    expect(isWholeEd25519(whole)).toBe(true);
  });

  it("OpenSSH reads every private key it makes and derives the same public key", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dumont-keys-"));
    try {
      for (let i = 0; i < 100; i++) {
        const pair = newEd25519Pair();
        const file = path.join(dir, "key");
        writeFileSync(file, pair.private, { mode: 0o600 });
        const derived = execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }).trim().split(" ").slice(0, 2).join(" ");
        expect(derived).toBe(pair.public.split(" ").slice(0, 2).join(" "));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
