// A chaos scenario: a fault injected at a named point of a real run on the local cloud, and what
// must hold afterwards. A scenario throws when an expectation fails; the runner measures files
// lost, instances leaked and GPUs taking writes for every scenario, passed or not.
import type { StackSetting } from "../../stacks/stack-file.ts";
import type { ChaosCloud, ChaosStack } from "./world.ts";

export interface ScenarioOutcome {
  /** Seconds from the fault (or the failover decision) to a verified, active GPU. */
  readonly rtoSeconds?: number;
  /** How old the data the active GPU got was, when the fault hit. */
  readonly rpoSeconds?: number;
  readonly detail: string;
}

export interface Scenario {
  readonly id: string;
  /** What goes wrong. */
  readonly fault: string;
  /** Where in the run it is injected. */
  readonly where: string;
  /** Runs on a fresh stack (made by `stacks`, destroyed by the runner). */
  run(world: ScenarioWorld): Promise<ScenarioOutcome>;
}

export interface ScenarioWorld {
  readonly cloud: ChaosCloud;
  /** Makes a stack for this scenario (named it-ch-<id>[-suffix]); the runner destroys it. Values made with `secret()` are stored as secrets. */
  /** A stack of its own; its state in the run's file backend unless `backendUrl` names another. */
  stack(settings?: Readonly<Record<string, StackSetting>>, suffix?: string, backendUrl?: string): Promise<ChaosStack>;
  /** A line of progress. */
  log(line: string): void;
}

export interface ScenarioResult {
  readonly id: string;
  readonly fault: string;
  readonly where: string;
  readonly passed: boolean;
  readonly filesLost: number;
  readonly instancesLeaked: number;
  readonly activeGpus: number;
  readonly rtoSeconds: number | null;
  readonly rpoSeconds: number | null;
  readonly seconds: number;
  readonly detail: string;
}
