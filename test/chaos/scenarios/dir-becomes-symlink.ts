// A folder that becomes a symlink (and another that becomes a file) between two snapshots of a
// chain: the chain restores onto the new GPU and verifies.
import type { Scenario } from "../scenario.ts";
import { expectThat } from "../world.ts";
import { automaticFailover, describeRestore, killActiveGpu, names } from "./common.ts";

export const dirBecomesSymlink: Scenario = {
  id: "dir-becomes-symlink",
  fault: "folder replaced by a symlink and by a file",
  where: "between a full and an incremental snapshot",
  async run(world) {
    const s = await world.stack({ autoStandbyEnabled: false });
    await s.onGpu((ssh) => s.ledger.write(ssh, [...names("models/ckpt", 3), ...names("cache/c", 3), ...names("keep/k", 3)]));
    await s.snapshot("full", "full");
    await s.onGpu(async (ssh) => {
      await ssh.run(["bash", "-c", "cd /workspace && rm -rf models cache && mkdir -p store && ln -s store models && printf 'now a file\\n' > cache"]);
      s.ledger.forget([...names("models/ckpt", 3), ...names("cache/c", 3)]);
      await s.ledger.write(ssh, names("store/new", 2));
    });
    const incremental = await s.snapshot("after-change");
    expectThat(incremental.kind === "incremental", `the second snapshot is ${incremental.kind}`);
    const victim = await killActiveGpu(world, s);
    const t0 = Date.now();
    const result = await automaticFailover(world, s, victim, "snapshot");
    expectThat(result.outcome === "failed-over" && result.restored?.kind === "snapshot" && result.restored.id === incremental.id, `restored from ${describeRestore(result)}`);
    const kinds = await s.onGpu(async (ssh) => (await ssh.run(["bash", "-c", "cd /workspace && stat -c '%n %F' models cache"])).stdout.trim());
    expectThat(kinds.includes("models symbolic link") && kinds.includes("cache regular file"), `types on the new GPU: ${kinds}`);
    return { rtoSeconds: (Date.now() - t0) / 1000, rpoSeconds: result.rpoSeconds, detail: `chain of 2 restored and verified: ${kinds.replace("\n", ", ")}` };
  },
};
