// Every subcommand, in the order `dumont --help` lists them.
import type { Command } from "../cli/command.ts";
import { costCommand } from "./cost.ts";
import { doctor } from "./doctor.ts";
import { env } from "./env.ts";
import { failoverCommand, failoverRestoreCommand } from "./failover.ts";
import { filesCreate, filesValidate } from "./files.ts";
import { instanceDestroy, instanceList, instanceStatus } from "./instance.ts";
import { instanceCreate } from "./instance-create.ts";
import { journeyCommand } from "./journey.ts";
import { localCloudDown, localCloudFault, localCloudStatus, localCloudUp } from "./local-cloud.ts";
import { smoke } from "./smoke.ts";
import { snapshotCreate, snapshotDelete, snapshotList, snapshotPrune, snapshotRestore } from "./snapshot.ts";
import { sshCommand } from "./ssh.ts";
import { destroyCommand, previewCommand, refreshCommand, upCommand } from "./stack.ts";
import { standbyAssociations, standbyConfigure, standbyStatus, standbySync } from "./standby.ts";
import { watchCommand } from "./watch.ts";

export const commands: readonly Command[] = [
  journeyCommand, upCommand, previewCommand, refreshCommand, destroyCommand, sshCommand,
  snapshotCreate, snapshotList, snapshotRestore, snapshotDelete, snapshotPrune, filesCreate, filesValidate,
  standbySync, standbyStatus, standbyAssociations, standbyConfigure, failoverCommand, failoverRestoreCommand, watchCommand,
  costCommand, instanceCreate, instanceList, instanceStatus, instanceDestroy, smoke,
  localCloudUp, localCloudDown, localCloudStatus, localCloudFault, doctor, env,
];
