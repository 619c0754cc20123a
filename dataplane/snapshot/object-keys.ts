// Which keys under a stack's prefix are Dumont's: each snapshot's archive and manifest
// (<prefix><id>/archive.tar.lz4, <prefix><id>/manifest.json) and its control objects under
// <prefix>.dumont/. That is all Dumont lists, restores or deletes in a bucket it may share with other
// people's objects and other stacks' prefixes; anything else, even under its prefix, it leaves.
import { isSnapshotId } from "./manifest.ts";

const archiveFile = "archive.tar.lz4";
const manifestFile = "manifest.json";

export function archiveKey(prefix: string, id: string): string {
  return `${prefix}${id}/${archiveFile}`;
}

export function manifestKey(prefix: string, id: string): string {
  return `${prefix}${id}/${manifestFile}`;
}

/**
 * The snapshot id of `key` when it is a snapshot's archive or manifest directly under `prefix`;
 * undefined for anything else (another prefix below this one, a file of another name, an id that
 * Dumont never makes).
 */
export function snapshotIdOfKey(prefix: string, key: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const parts = key.slice(prefix.length).split("/");
  if (parts.length !== 2) return undefined;
  const [id, file] = parts as [string, string];
  return (file === archiveFile || file === manifestFile) && isSnapshotId(id) ? id : undefined;
}

/**
 * The folder under the prefix where Dumont keeps its own small objects beside the snapshots: the
 * controller leases and the conditional-write probe (stacks/lease/stack-leases.ts).
 */
export const controlFolder = ".dumont/";

/**
 * What Dumont put under `prefix` and may therefore delete: a snapshot's object, one of its control
 * objects, or (undefined) something that is not Dumont's, which it never touches.
 */
export function dumontObjectKind(prefix: string, key: string): "snapshot" | "control" | undefined {
  if (snapshotIdOfKey(prefix, key) !== undefined) return "snapshot";
  return key.startsWith(`${prefix}${controlFolder}`) ? "control" : undefined;
}
