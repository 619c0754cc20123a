// A failover's recovery time: from the moment it was asked for (the watch's decision, or the
// command) to a verified GPU made active, and where that time went. The provider's wait and the
// data (the old GPU's last copy, the restore, its verification) are what a failover cannot avoid;
// every other phase is Dumont's own, named so that it can be made shorter.

/** What the provider's outputs say of a new GPU's start (contract/stack-outputs.ts). */
export interface ProvisionTimes {
  readonly rentRequestedAt?: string;
  readonly sshReadyAt?: string;
}

export interface RtoReport {
  readonly seconds: number;
  /** Seconds by phase; `other` is what no phase accounts for (locks, records, reading the stack). */
  readonly phases: Readonly<Record<string, number>>;
}

/** The phases a failover cannot do without: the provider's and the data's. */
export const unavoidablePhases = ["provider_wait", "last_copy", "restore", "verify"] as const;

/** What the failover itself added to the provider's wait and the data: the figure to keep small. */
export function overheadSeconds(report: RtoReport): number {
  return report.seconds - unavoidablePhases.reduce((sum, phase) => sum + (report.phases[phase] ?? 0), 0);
}

export class RtoClock {
  private readonly startedAt: number;
  private readonly phases: Record<string, number> = {};

  constructor(startedAt = Date.now()) {
    this.startedAt = startedAt;
  }

  add(phase: string, seconds: number): void {
    this.phases[phase] = (this.phases[phase] ?? 0) + Math.max(0, seconds);
  }

  /** Runs `work` as the phase `phase`. */
  async time<T>(phase: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await work();
    } finally {
      this.add(phase, (Date.now() - started) / 1000);
    }
  }

  /**
   * A rent (stacks/failover/rent.ts), split by the provider's own times: the offer search until the
   * rent request, the provider's wait until SSH answered, and the tools Dumont puts on a bare image.
   * Without the times (an older provider) it is all "provision".
   */
  addProvision(runStartedAt: number, runEndedAt: number, times: ProvisionTimes): void {
    const requested = times.rentRequestedAt ? Date.parse(times.rentRequestedAt) : NaN;
    const ready = times.sshReadyAt ? Date.parse(times.sshReadyAt) : NaN;
    if (!(runStartedAt <= requested && requested <= ready && ready <= runEndedAt)) {
      this.add("provision", (runEndedAt - runStartedAt) / 1000);
      return;
    }
    this.add("offer_search", (requested - runStartedAt) / 1000);
    this.add("provider_wait", (ready - requested) / 1000);
    this.add("host_tools", (runEndedAt - ready) / 1000);
  }

  /** The RTO up to now, with `other` the time no phase accounts for. */
  report(now = Date.now()): RtoReport {
    const seconds = (now - this.startedAt) / 1000;
    const named = Object.values(this.phases).reduce((sum, s) => sum + s, 0);
    return { seconds, phases: { ...this.phases, other: Math.max(0, seconds - named) } };
  }
}

/** "provider_wait 4.1 s, restore 1.0 s, …" for a progress line. */
export function describePhases(report: RtoReport): string {
  return Object.entries(report.phases).filter(([, s]) => s >= 0.05).map(([phase, s]) => `${phase} ${s.toFixed(1)} s`).join(", ");
}
