// The controller's machine dies in the middle of a failover (SIGKILL of its process group: the
// controller and the engine it runs), at each phase; a new run finishes the failover, clearing the
// engine's lock the dead update left and sweeping any instance it rented unrecorded.
import { failover } from "../../../stacks/failover/apply.ts";
import { Controller } from "../controller.ts";
import type { Scenario } from "../scenario.ts";
import { expectThat } from "../world.ts";
import { describeRestore, names } from "./common.ts";

function killedDuring(id: string, phase: RegExp, moment: RegExp, next: RegExp, where: string, bulk = ""): Scenario {
  return {
    id,
    fault: "controller SIGKILLed (with its engine)",
    where,
    async run(world) {
      const s = await world.stack();
      await s.onGpu(async (ssh) => {
        await s.ledger.write(ssh, names("k", 8));
        // Enough data that the restore takes a while, for a kill in its middle.
        if (bulk) await ssh.run(["bash", "-c", `head -c ${bulk} /dev/urandom > /workspace/bulk.bin`]);
      });
      await s.sync();
      const first = new Controller(["failover", "--stack", s.name]);
      await first.waitFor(moment, 180_000, phase);
      await first.killGroup();
      expectThat(!first.lines.some((l) => next.test(l)), `the controller had already reached ${next.source} when it was killed`);
      const t0 = Date.now();
      const result = await failover({ stack: s.name, onProgress: world.log });
      expectThat(result.outcome === "failed-over", `the re-run ended ${result.outcome}: ${result.reason ?? ""}`);
      return { rtoSeconds: (Date.now() - t0) / 1000, rpoSeconds: result.rpoSeconds, detail: `killed at "${phase.source}"; the re-run restored ${describeRestore(result)}${result.orphansDestroyed.length ? `, swept ${result.orphansDestroyed.join(", ")}` : ""}` };
    },
  };
}

export const killMidProvisionUp = killedDuring("kill-mid-provision-up", /\[provision\]/, /renting offer/, /\[restore\]/, "during the rent of the new GPU");
// The swap is a write of the slot record (no engine run): killed as it starts, the record may or may
// not say the new slot is active yet; either way the re-run finishes.
export const killMidSwap = killedDuring("kill-mid-swap", /\[fence\]/, /\[swap\]/, /failover done/, "as the swap starts");
export const killMidRetireUp = killedDuring("kill-mid-retire-up", /\[retire\]/, /Updating/, /failover done/, "during the retire's up");
export const killMidRestore = killedDuring("kill-mid-restore", /\[restore\]/, /restoring the standby/, /\[fence\]/, "during the restore", "600M");
