// What the standby sync and the health watch last did, per stack, in .state/status/<stack>.json:
// written by `dumont standby sync` and `dumont watch`, read by `dumont standby status` and tests.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { RsyncResult } from "../../dataplane/standby/rsync.ts";
import { stateDir } from "../../lib/tools/paths.ts";
import { recordWritten } from "../lease/shared-records.ts";

export interface SyncRecord extends RsyncResult {
  /** The standby generation this sync completed (see dataplane/standby/generations.ts). */
  readonly generation?: number;
  readonly fromInstanceId: number;
  readonly toStandby: string;
}

export interface HealthCheckRecord {
  readonly at: string;
  readonly ok: boolean;
  readonly ssh: "ok" | "failed";
  readonly vastStatus: string;
  /** Vast stopped this interruptible GPU for a higher bid (it still intends it to run). */
  readonly outbid?: boolean;
  readonly error?: string;
}

export interface StackStatus {
  readonly stack: string;
  lastSync?: SyncRecord;
  lastSyncError?: { readonly at: string; readonly message: string };
  consecutiveSyncFailures: number;
  watch?: {
    pid: number;
    startedAt: string;
    updatedAt: string;
    state: "healthy" | "degraded" | "failing-over" | "on-standby" | "recovered" | "stopped";
    consecutiveFailures: number;
    lastCheck?: HealthCheckRecord;
    lastFailover?: { readonly at: string; readonly from: number; readonly to?: number; readonly rpoSeconds?: number; readonly rtoSeconds?: number; readonly error?: string };
  };
}

export function statusFile(stack: string): string {
  return path.join(stateDir, "status", `${stack}.json`);
}

export function readStatus(stack: string): StackStatus {
  try {
    return JSON.parse(readFileSync(statusFile(stack), "utf8")) as StackStatus;
  } catch {
    return { stack, consecutiveSyncFailures: 0 };
  }
}

/** Reads, changes and writes the status atomically (rename), so readers never see half a file. */
export function updateStatus(stack: string, change: (status: StackStatus) => void): StackStatus {
  const status = readStatus(stack);
  change(status);
  const file = statusFile(stack);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(status, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
  recordWritten(stack, "status");
  return status;
}

/** Recovery point: how old the standby's copy is (from the start of the last completed sync). */
export function rpoSeconds(status: StackStatus, now = Date.now()): number | undefined {
  return status.lastSync ? (now - Date.parse(status.lastSync.startedAt)) / 1000 : undefined;
}
