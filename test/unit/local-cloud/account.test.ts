// The account's SSH keys: Vast's errors, and one id sequence shared with instance keys.
import { describe, expect, it } from "vitest";
import { Account } from "../../../local-cloud/account.ts";
import { VastError } from "../../../local-cloud/vast/error.ts";

const key = (n: number) => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${n} key-${n}`;

describe("the account", () => {
  it("starts with $100 of credit unless told otherwise, and an API key of its own", () => {
    expect(new Account().creditUsd).toBe(100);
    expect(new Account(undefined).creditUsd).toBe(100);
    expect(new Account(0.5).creditUsd).toBe(0.5);
    expect(new Account().apiKey).toMatch(/^[0-9a-f]{48}$/);
    expect(new Account().apiKey).not.toBe(new Account().apiKey);
  });

  it("adds, updates and deletes keys, numbering them with instance keys in one sequence", () => {
    const account = new Account();
    const a = account.addKey(`  ${key(1)}\n`);
    expect(a).toMatchObject({ id: 1, key: key(1) });
    expect(a.createdAt).toBeCloseTo(Date.now() / 1000, -1);
    expect(account.nextKeyId()).toBe(2);
    const b = account.addKey(key(3));
    expect(b.id).toBe(3);
    expect(account.updateKey(1, key(4))).toMatchObject({ id: 1, key: key(4) });
    expect(account.publicKeys()).toEqual([key(4), key(3)]);
    account.deleteKey(1);
    expect(account.keys.map((k) => k.id)).toEqual([3]);
  });

  it("uses up an id on a refused key, as Vast's sequence would", () => {
    const account = new Account();
    expect(() => account.addKey("not a key")).toThrow(VastError);
    expect(account.addKey(key(1)).id).toBe(2);
    expect(account.keys).toHaveLength(1);
  });

  it("answers Vast's 400 for a key it does not have", () => {
    const account = new Account();
    for (const f of [() => account.updateKey(9, key(1)), () => account.deleteKey(9)]) {
      try {
        f();
        throw new Error("expected a refusal");
      } catch (error) {
        expect((error as VastError).body).toEqual({ success: false, error: "no_ssh_key", msg: "No ssh key provided" });
      }
    }
  });

  it("hands a new host a copy of the keys, not the account's own list", () => {
    const account = new Account();
    account.addKey(key(1));
    const forHost = account.publicKeys();
    account.addKey(key(2));
    expect(forHost).toEqual([key(1)]);
  });
});
