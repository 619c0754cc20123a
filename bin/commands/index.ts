// Every subcommand, in the order `dumont --help` lists them.
import { doctor } from "./doctor.ts";
import { env } from "./env.ts";
import { failoverCommand, failoverRestoreCommand } from "./failover.ts";
import { standbyAssociations, standbyConfigure, standbyStatus, standbySync } from "./standby.ts";
import { watchCommand } from "./watch.ts";
import { filesCreate, filesValidate } from "./files.ts";
import { snapshotCreate, snapshotDelete, snapshotList, snapshotPrune, snapshotRestore } from "./snapshot.ts";
import { localCloudDown, localCloudFault, localCloudStatus, localCloudUp } from "./local-cloud.ts";
import { smoke } from "./smoke.ts";
import { destroyCommand, previewCommand, refreshCommand, upCommand } from "./stack.ts";
import type { Command } from "./types.ts";

export const commands: readonly Command[] = [upCommand, previewCommand, refreshCommand, destroyCommand, snapshotCreate, snapshotList, snapshotRestore, snapshotDelete, snapshotPrune, filesCreate, filesValidate, standbySync, standbyStatus, standbyAssociations, standbyConfigure, failoverCommand, failoverRestoreCommand, watchCommand, smoke, localCloudUp, localCloudDown, localCloudStatus, localCloudFault, doctor, env];
