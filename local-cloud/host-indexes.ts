// Host indexes: each host (instance or standby) gets a free index, which names its namespace and
// link and gives its address (names.ts). Handed out in rotation, not lowest-free first: reusing an
// address at once would let other hosts' stale ARP entries point at a link that no longer exists
// (seconds of timeouts).
import type { CloudNames } from "./names.ts";
import { maxHostsPerCloud } from "./names.ts";
import { VastError } from "./vast/error.ts";

export class HostIndexes {
  private readonly max: number;
  private readonly used = new Set<number>();
  private last = 0;

  constructor(max = maxHostsPerCloud) {
    this.max = max;
  }

  /** The next free index after the last one handed out. */
  allocate(): number {
    for (let step = 1; step <= this.max; step++) {
      const i = ((this.last + step - 1) % this.max) + 1;
      if (!this.used.has(i)) {
        this.used.add(i);
        this.last = i;
        return i;
      }
    }
    throw new VastError(503, "no_capacity", `the local cloud holds at most ${this.max} hosts`);
  }

  release(index: number): void {
    this.used.delete(index);
  }
}

/** What making a host takes: where it lives on this machine and an index for it. */
export interface Hosting {
  readonly names: CloudNames;
  readonly cloudDir: string;
  /** The package mirror hosts install from (package-mirror.ts). */
  readonly mirrorUrl: string;
  readonly indexes: HostIndexes;
}
