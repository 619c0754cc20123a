// `dumont watch` in the scenario's process, its JSON events collected, waited on and stopped.
import { watch } from "../../stacks/watch.ts";
import { until } from "./world.ts";

export type WatchEvent = Record<string, any> & { readonly event: string; readonly t: number };

export class Watching {
  readonly events: WatchEvent[] = [];
  private readonly controller = new AbortController();
  private readonly running: Promise<void>;

  constructor(stack: string) {
    this.running = watch({ stack, log: (e) => this.events.push({ ...e, t: Date.now() } as WatchEvent), signal: this.controller.signal });
  }

  /** The first event that matches, waiting for it. */
  async next(predicate: (e: WatchEvent) => boolean, timeoutMs: number, after = 0): Promise<WatchEvent> {
    let found: WatchEvent | undefined;
    await until(`a watch event (last: ${JSON.stringify(this.events.at(-1) ?? {}).slice(0, 300)})`, () => {
      found = this.events.find((e) => e.t >= after && predicate(e));
      return found !== undefined;
    }, timeoutMs);
    return found!;
  }

  count(event: string): number {
    return this.events.filter((e) => e.event === event).length;
  }

  /** Stops the loop (a failover in progress finishes its step first). */
  async stop(): Promise<void> {
    this.controller.abort();
    await Promise.race([this.running, new Promise((r) => setTimeout(r, 120_000))]);
  }
}
