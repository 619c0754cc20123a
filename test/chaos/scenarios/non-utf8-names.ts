// File names that are not valid UTF-8 (an unpacked Windows zip): snapshots and standby copies keep
// them byte for byte, and failovers from either restore and verify them.
import type { Scenario } from "../scenario.ts";
import { expectThat } from "../world.ts";
import { automaticFailover, describeRestore, killActiveGpu, names } from "./common.ts";

/** Latin-1 bytes, not UTF-8: "résumé-été.txt" as Windows wrote it, and a lone 0xff. */
const makeNames = "cd /workspace && mkdir -p zips && printf 'cv\\n' > \"zips/$(printf 'r\\351sum\\351-\\351t\\351.txt')\" && printf 'x\\n' > \"$(printf 'bad\\377name')\" && ls zips | od -c | head -2";

export const nonUtf8Names: Scenario = {
  id: "non-utf8-names",
  fault: "file names that are not UTF-8",
  where: "in /workspace, through a snapshot and a standby copy",
  async run(world) {
    const s = await world.stack();
    await s.onGpu(async (ssh) => {
      await s.ledger.write(ssh, names("plain", 4));
      await ssh.run(["bash", "-c", makeNames]);
    });
    const snapshot = await s.snapshot("latin1", "full");
    await s.sync();
    const count = async () => s.onGpu(async (ssh) => (await ssh.run(["bash", "-c", "cd /workspace && find . -name 'r*sum*' -o -name 'bad*name' | wc -l"])).stdout.trim());
    const first = await killActiveGpu(world, s);
    const viaStandby = await automaticFailover(world, s, first, "standby");
    expectThat(viaStandby.restored?.kind === "standby", `first failover restored from ${describeRestore(viaStandby)}`);
    expectThat(await count() === "2", "the odd names did not survive the standby");
    const second = await killActiveGpu(world, s);
    const t0 = Date.now();
    const viaSnapshot = await automaticFailover(world, s, second, "snapshot");
    expectThat(viaSnapshot.restored?.kind === "snapshot" && viaSnapshot.restored.id === snapshot.id, `second failover restored from ${describeRestore(viaSnapshot)}`);
    expectThat(await count() === "2", "the odd names did not survive the snapshot");
    return { rtoSeconds: (Date.now() - t0) / 1000, rpoSeconds: viaSnapshot.rpoSeconds, detail: "two non-UTF-8 names kept byte for byte through a standby copy and a snapshot, every file verified" };
  },
};
