// The GPU host's root turns hostile, as anyone who rents out a machine can: `find`, which a snapshot
// runs first to list /workspace, is replaced (written over, in the host's own root) by a
// program that answers with 2 GiB on stdout, then with 1 GiB of terminal escape sequences on stderr,
// each time with a title change, a screen clear and an 8-bit CSI for good measure. `dumont snapshot
// create` runs as its own process against each: it must end in bounded time with an error that says
// what happened, its memory must stay far below what the host sent, and no escape sequence or
// control character may reach its output. Once `find` is honest again, a snapshot works.
import { hostMount } from "../../../local-cloud/host-files.ts";
import { Controller } from "../controller.ts";
import type { Scenario } from "../scenario.ts";
import { expectThat } from "../world.ts";
import { names } from "./common.ts";

/** Where the rogue program lives on the host (its /root is the host's own) and what it does. */
const rogueDir = "/root/.rogue";

const rogueFind = String.raw`#!/bin/bash
# A hostile root's find: escape sequences first, then whatever ${rogueDir}/mode says.
printf '\033]0;owned by the GPU host\007\033[2J\033[1;31mrogue\033[0m\r\302\233 31m\n' >&2
case "$(cat ${rogueDir}/mode 2>/dev/null)" in
  stdout) yes $'\e]8;;http://rogue.invalid\a\e[5mflood\e[0m\r' | head -c 2G ;;
  stderr) yes $'\e]0;owned\a\e[2J\e[31mrogue stderr\r\302\235' | head -c 1G >&2; exit 1 ;;
esac
`;

/**
 * Writes the rogue find over the real one, keeping the real one beside it. A local-cloud host runs
 * its image under an overlay of its own, so this changes that host alone; anywhere else (not inside
 * a host, or a root that is not an overlay) it is refused.
 */
const installRogue = String.raw`set -euo pipefail
target=$(readlink -f "$(command -v find)")
if ! mountpoint -q ${hostMount}/etc; then echo "not inside a local-cloud host (no ${hostMount}/etc mount): refusing" >&2; exit 1; fi
if [ "$(findmnt -n -o FSTYPE /)" != overlay ]; then echo "/ is not the host's own overlay: refusing" >&2; exit 1; fi
mkdir -p ${rogueDir}
cp -a "$target" ${rogueDir}/find.real
cat > "$target"
`;

const removeRogue = String.raw`cp -a ${rogueDir}/find.real "$(readlink -f "$(command -v find)")"
rm -rf ${rogueDir}`;

/** Each controller run must end within this (loading the stack takes most of it). */
const boundSeconds = 240;
/** The controller's peak RSS must stay below this, while the host sends 2 GiB and 1 GiB. */
const memoryBoundMiB = 768;

/**
 * Makes the controller print its own peak RSS as it exits (getrusage's maxrss, so a peak between
 * two polls is not missed): a module every Node process of the run imports first.
 */
const peakReporter = `data:text/javascript;base64,${Buffer.from(
  "process.on('exit', () => console.error('peak-rss-kib ' + process.resourceUsage().maxRSS));",
).toString("base64")}`;

/** Any character a terminal would act on (tab aside; lines are split at "\n"). */
const terminalControl = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

interface ControllerRun {
  readonly code: number | null;
  readonly seconds: number;
  readonly peakMiB: number;
  readonly lines: readonly string[];
}

async function snapshotCreate(stack: string, name: string): Promise<ControllerRun> {
  const started = Date.now();
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${peakReporter}`.trim() };
  const controller = new Controller(["snapshot", "create", "--stack", stack, "--name", name, "--full"], env);
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    controller.done,
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), boundSeconds * 1000))),
  ]);
  clearTimeout(timer);
  if (!ended) await controller.killGroup();
  const seconds = (Date.now() - started) / 1000;
  const peaks = controller.lines.flatMap((l) => /^peak-rss-kib (\d+)$/.exec(l)?.[1] ?? []).map(Number);
  expectThat(ended !== undefined, `dumont snapshot create was still running after ${boundSeconds} s (killed); last lines:\n${controller.lines.slice(-5).join("\n")}`);
  expectThat(peaks.length > 0, `dumont snapshot create ended (${ended.code ?? ended.signal}) without reporting its peak memory: killed by the kernel?`);
  return { code: ended.code, seconds, peakMiB: Math.max(...peaks) / 1024, lines: controller.lines.filter((l) => !l.startsWith("peak-rss-kib ")) };
}

/** What every run against the rogue host must show: failed, in time, in bounded memory, no escapes. */
function expectContained(what: string, run: ControllerRun, message: RegExp): string {
  const output = run.lines.join("\n");
  expectThat(run.code !== 0, `${what}: the snapshot succeeded against a rogue find`);
  expectThat(run.seconds <= boundSeconds, `${what}: took ${run.seconds.toFixed(0)} s (bound ${boundSeconds} s)`);
  expectThat(run.peakMiB <= memoryBoundMiB, `${what}: the controller's peak RSS was ${run.peakMiB.toFixed(0)} MiB (bound ${memoryBoundMiB} MiB)`);
  const raw = run.lines.find((l) => terminalControl.test(l));
  expectThat(raw === undefined, `${what}: a control character reached the controller's output: ${JSON.stringify(raw?.slice(0, 200))}`);
  const said = run.lines.find((l) => message.test(l));
  expectThat(said !== undefined, `${what}: no line says what happened (${message}); the output ends:\n${output.slice(-600)}`);
  return said;
}

export const outputFlood: Scenario = {
  id: "output-flood",
  fault: "the GPU host's find floods stdout (2 GiB) and stderr (1 GiB of escape sequences)",
  where: "dumont snapshot create's listing of /workspace",
  async run(world) {
    const s = await world.stack({ autoStandbyEnabled: false });
    await s.onGpu((ssh) => s.ledger.write(ssh, names("f", 4)));
    const rogue = (mode: string) => s.onGpu((ssh) => ssh.run(["sh", "-c", `printf '%s\\n' "$1" > ${rogueDir}/mode`, "mode", mode]));
    let stdoutRun: ControllerRun;
    let stderrRun: ControllerRun;
    let stdoutSaid: string;
    let stderrSaid: string;
    try {
      await s.onGpu((ssh) => ssh.run(["bash", "-c", installRogue], { stdin: rogueFind }));

      await rogue("stdout");
      stdoutRun = await snapshotCreate(s.name, "flood-stdout");
      world.log(`stdout flood: exit ${stdoutRun.code} after ${stdoutRun.seconds.toFixed(1)} s, peak RSS ${stdoutRun.peakMiB.toFixed(0)} MiB`);
      // Refused by the cap on the bytes, or (since session 14's listings are read as they arrive)
      // sooner, by the first "field" longer than any path.
      stdoutSaid = expectContained("stdout flood", stdoutRun, /wrote more than \d+ MiB to stdout for: bash -c|a host listing holds a field longer than \d+ bytes, longer than any path: refused/);

      await rogue("stderr");
      stderrRun = await snapshotCreate(s.name, "flood-stderr");
      world.log(`stderr flood: exit ${stderrRun.code} after ${stderrRun.seconds.toFixed(1)} s, peak RSS ${stderrRun.peakMiB.toFixed(0)} MiB`);
      stderrSaid = expectContained("stderr flood", stderrRun, /remote command failed \(exit 1\): bash -c/);
    } finally {
      await s.onGpu((ssh) => ssh.run(["bash", "-c", removeRogue], { allowFailure: true })).catch(() => undefined);
    }

    const store = await (await s.context()).snapshotStore();
    const listed = (await store.list()).filter((x) => x.name.startsWith("flood-"));
    expectThat(listed.length === 0, `a snapshot of the rogue host is listed: ${listed.map((x) => x.id).join(", ")}`);
    const honest = await s.snapshot("after-flood", "full");
    return {
      detail: `stdout flood: "${stdoutSaid.slice(0, 90)}" after ${stdoutRun.seconds.toFixed(0)} s, peak ${stdoutRun.peakMiB.toFixed(0)} MiB; `
        + `stderr flood: exit ${stderrRun.code} after ${stderrRun.seconds.toFixed(0)} s, peak ${stderrRun.peakMiB.toFixed(0)} MiB (${stderrSaid.slice(0, 40)}…); `
        + `no control character in either output; honest again: ${honest.id}`,
    };
  },
};
