// What Dumont keeps of a GPU rented outside any stack (`dumont instance create`): where it answers,
// the host key seen when it was rented (pinned for every later login), and the key made for it
// alone. No stack's state holds any of this, so it lives in the controller's state folder:
// `<state>/throwaway-instances/<id>.json`, owner-only like every file there that holds a secret.
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { SshTarget } from "../../dataplane/ssh/client.ts";
import { stateDir } from "../../lib/tools/paths.ts";
import { makePrivateDir, privateFileMode } from "../../lib/tools/private-dir.ts";

export interface ThrowawayRecord {
  readonly format: "dumont-throwaway/1";
  readonly instanceId: number;
  /** The name asked for, and the label Vast holds (the name plus the rent's suffix). */
  readonly name: string;
  readonly vastLabel: string;
  /** The stack whose settings and cloud account rented it (`dumont instance destroy --stack` reaches it). */
  readonly stack: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly hostKey: string;
  /** The private key made for this instance (its public half is the only one Vast was given). */
  readonly privateKey: string;
  readonly gpuName: string;
  readonly numGpus: number;
  readonly machineId: number;
  readonly dphTotal: number;
  readonly createdAt: string;
}

export function throwawayFolder(): string {
  return path.join(stateDir, "throwaway-instances");
}

function recordFile(instanceId: number): string {
  return path.join(throwawayFolder(), `${instanceId}.json`);
}

/** Written whole by rename: a reader never sees half a record. */
export function saveThrowaway(record: ThrowawayRecord): void {
  const file = recordFile(record.instanceId);
  makePrivateDir(path.dirname(file));
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: privateFileMode });
  renameSync(temporary, file);
}

export function readThrowaway(instanceId: number): ThrowawayRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(recordFile(instanceId), "utf8")) as ThrowawayRecord;
    return record.format === "dumont-throwaway/1" ? record : undefined;
  } catch {
    return undefined;
  }
}

export function listThrowaways(): ThrowawayRecord[] {
  let names: string[];
  try {
    names = readdirSync(throwawayFolder());
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const id = /^(\d+)\.json$/.exec(name)?.[1];
    const record = id === undefined ? undefined : readThrowaway(Number(id));
    return record ? [record] : [];
  });
}

/** How to log in: its own key, and the host key seen when it was rented. */
export function throwawaySshTarget(record: ThrowawayRecord): SshTarget {
  return { host: record.host, port: record.port, username: record.user, hostKey: record.hostKey, privateKey: record.privateKey };
}

/** Forgets an instance once it is destroyed (its key is worth nothing then, and is deleted with it). */
export function forgetThrowaway(instanceId: number): void {
  rmSync(recordFile(instanceId), { force: true });
}
