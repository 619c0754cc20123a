// Every chaos scenario, in the order `npm run chaos` runs them. Ids are the issues' names.
import type { Scenario } from "../scenario.ts";
import { agentAbuse } from "./agent-abuse.ts";
import { apiOutageHealthyGpu } from "./api-outage-healthy-gpu.ts";
import { killMidProvisionUp, killMidRestore, killMidRetireUp, killMidSwap } from "./controller-killed.ts";
import { rentThenKeyAttachFails } from "./rent-then-key-attach-fails.ts";
import { secretsScan } from "./secrets-scan.ts";
import { watchAndManualFailover } from "./watch-and-manual-failover.ts";
import { watchRestartResumes } from "./watch-restart-resumes.ts";
import { configDriftDuringFailover } from "./config-drift-during-failover.ts";
import { corruptNewestSnapshot } from "./corrupt-newest-snapshot.ts";
import { dirBecomesSymlink } from "./dir-becomes-symlink.ts";
import { fileChangesDuringSnapshot } from "./file-changes-during-snapshot.ts";
import { foreignBucket } from "./foreign-bucket.ts";
import { gitRevertsSettings } from "./git-reverts-settings.ts";
import { gpuDiesMidSync } from "./gpu-dies-mid-sync.ts";
import { labelPrefixNeighbour } from "./label-prefix-neighbour.ts";
import { nonUtf8Names } from "./non-utf8-names.ts";
import { oldGpuReturns } from "./old-gpu-returns.ts";
import { outputFlood } from "./output-flood.ts";
import { outbidInterruptible, outbidWait } from "./outbid-interruptible.ts";
import { plannedMoveFinalSync } from "./planned-move-final-sync.ts";
import { poisonedChain } from "./poisoned-chain.ts";
import { stalledTransfer } from "./stalled-transfer.ts";
import { twoControllers, twoControllersS3Backend } from "./two-controllers.ts";
import { controllerPartitioned } from "./controller-partitioned.ts";
import { standbyStoppedAtFailover } from "./standby-stopped-at-failover.ts";

export const scenarios: readonly Scenario[] = [
  // No data lost
  gpuDiesMidSync, configDriftDuringFailover, apiOutageHealthyGpu, oldGpuReturns, plannedMoveFinalSync,
  dirBecomesSymlink, fileChangesDuringSnapshot, nonUtf8Names, corruptNewestSnapshot, standbyStoppedAtFailover, outbidInterruptible, outbidWait,
  // Never stuck, never leaked
  killMidProvisionUp, killMidSwap, killMidRetireUp, killMidRestore, watchRestartResumes, watchAndManualFailover,
  labelPrefixNeighbour, rentThenKeyAttachFails, gitRevertsSettings, stalledTransfer, twoControllers, twoControllersS3Backend, controllerPartitioned,
  // A rogue host gets nothing
  agentAbuse, poisonedChain,
  foreignBucket, outputFlood,
  secretsScan,
];
