// Keys attached to one instance: the host's key set is the creation-time account keys plus these.
import { describe, expect, it } from "vitest";
import { attachKey, detachKey, listKeys } from "../../../local-cloud/instance-keys.ts";
import { VastError } from "../../../local-cloud/vast/error.ts";
import { fakeHost, instanceOn } from "./fakes.ts";

const accountKey = "ssh-ed25519 AAAAaccount me@laptop";
const extra = "ssh-ed25519 AAAAextra instance-key";

describe("instance keys", () => {
  it("writes the account's keys and the attached ones to the host on every change", async () => {
    const { host, calls } = fakeHost("i-1", [accountKey]);
    const instance = instanceOn(host);
    await attachKey(instance, 7, `  ${extra}\n`);
    expect(listKeys(instance)).toEqual([{ id: 7, name: "key-7", public_key: extra }]);
    await detachKey(instance, 7);
    expect(listKeys(instance)).toEqual([]);
    expect(calls).toEqual([`keys ${accountKey} | ${extra}`, `keys ${accountKey}`]);
  });

  it("refuses a bad key and an unknown key id, writing nothing", async () => {
    const { host, calls } = fakeHost();
    const instance = instanceOn(host);
    await expect(attachKey(instance, 1, "nope")).rejects.toBeInstanceOf(VastError);
    const unknown = await detachKey(instance, 9).catch((e: VastError) => e);
    expect(unknown).toMatchObject({ status: 404, body: { success: false, error: "no_such_ssh_key", msg: "SSH key 9 is not attached to instance 29012340." } });
    expect(calls).toEqual([]);
  });
});
