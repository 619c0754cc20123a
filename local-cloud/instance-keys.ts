// SSH keys attached to one instance (Vast's /instances/{id}/ssh/). Vast owns the host's key set: the
// account keys the host was created with plus these; each change rewrites it on the host.
import type { Instance } from "./instance.ts";
import { parsePublicKey } from "./requests.ts";
import { VastError } from "./vast/error.ts";

export async function attachKey(instance: Instance, keyId: number, key: string): Promise<void> {
  instance.instanceKeys.push({ id: keyId, key: parsePublicKey(key) });
  await writeKeys(instance);
}

export async function detachKey(instance: Instance, keyId: number): Promise<void> {
  const before = instance.instanceKeys.length;
  instance.instanceKeys = instance.instanceKeys.filter((k) => k.id !== keyId);
  if (instance.instanceKeys.length === before) throw new VastError(404, "no_such_ssh_key", `SSH key ${keyId} is not attached to instance ${instance.id}.`);
  await writeKeys(instance);
}

export function listKeys(instance: Instance): Array<{ id: number; name: string; public_key: string }> {
  return instance.instanceKeys.map((k) => ({ id: k.id, name: `key-${k.id}`, public_key: k.key }));
}

async function writeKeys(instance: Instance): Promise<void> {
  await instance.host.setAuthorizedKeys([...instance.host.spec.authorizedKeys, ...instance.instanceKeys.map((k) => k.key)]);
}
