// A file rewritten over and over while a snapshot runs: the snapshot completes, and it restores
// and verifies on a new GPU (the changing file as the snapshot recorded it, or reported).
import type { Scenario } from "../scenario.ts";
import { expectThat } from "../world.ts";
import { automaticFailover, describeRestore, killActiveGpu, names } from "./common.ts";

export const fileChangesDuringSnapshot: Scenario = {
  id: "file-changes-during-snapshot",
  fault: "a file rewritten in a loop",
  where: "while a snapshot reads the workspace",
  async run(world) {
    const s = await world.stack({ autoStandbyEnabled: false });
    await s.onGpu(async (ssh) => {
      await s.ledger.write(ssh, names("stable", 10), 256 * 1024);
      await ssh.run(["bash", "-c", "head -c 64M /dev/urandom > /workspace/bulk.bin"]);
      // The writer: a training job appending its log and rewriting its checkpoint, forever.
      await ssh.run(["bash", "-c", "setsid nohup bash -c 'while :; do head -c 2M /dev/urandom > /workspace/checkpoint.bin; date >> /workspace/train.log; done' >/dev/null 2>&1 < /dev/null &"]);
    });
    const made = await s.snapshot("busy", "full");
    const victim = await killActiveGpu(world, s);
    const t0 = Date.now();
    const result = await automaticFailover(world, s, victim, "snapshot");
    expectThat(result.outcome === "failed-over" && result.restored?.kind === "snapshot" && result.restored.id === made.id, `restored from ${describeRestore(result)}`);
    const unstable = [...made.entries].filter((e) => e.unstable).map((e) => e.path);
    return { rtoSeconds: (Date.now() - t0) / 1000, rpoSeconds: result.rpoSeconds, detail: `snapshot ${made.id} restored and verified${unstable.length ? `; reported as changing: ${unstable.join(", ")}` : ""}` };
  },
};
