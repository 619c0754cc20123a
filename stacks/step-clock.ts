// What a long-running loop (the watch) is doing and since when, so that a step that runs long is
// said while it runs, not only after: a loop that seems stuck names where.

export interface SlowStep {
  readonly step: string;
  readonly seconds: number;
}

export class StepClock {
  private current: { name: string; since: number; said: number };
  private readonly slowAfterSeconds: number;
  private readonly now: () => number;

  constructor(slowAfterSeconds: number, now: () => number = Date.now) {
    this.slowAfterSeconds = slowAfterSeconds;
    this.now = now;
    this.current = { name: "starting", since: now(), said: 0 };
  }

  enter(name: string): void {
    this.current = { name, since: this.now(), said: 0 };
  }

  /** The current step once it has run slowAfterSeconds, then again each time as long again; else undefined. */
  slow(): SlowStep | undefined {
    const seconds = (this.now() - this.current.since) / 1000;
    if (seconds < this.slowAfterSeconds * (this.current.said + 1)) return undefined;
    this.current.said += 1;
    return { step: this.current.name, seconds: Math.round(seconds) };
  }
}
