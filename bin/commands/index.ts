// Every subcommand, in the order `dumont --help` lists them.
import { doctor } from "./doctor.ts";
import { env } from "./env.ts";
import { localCloudDown, localCloudFault, localCloudStatus, localCloudUp } from "./local-cloud.ts";
import { smoke } from "./smoke.ts";
import { destroyCommand, previewCommand, refreshCommand, upCommand } from "./stack.ts";
import type { Command } from "./types.ts";

export const commands: readonly Command[] = [upCommand, previewCommand, refreshCommand, destroyCommand, smoke, localCloudUp, localCloudDown, localCloudStatus, localCloudFault, doctor, env];
