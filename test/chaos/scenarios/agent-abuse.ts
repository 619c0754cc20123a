// GPU hosts that attack: during standby syncs and a planned failover (the old GPU's last sync, then
// the standby's restore onto the new GPU) a loop on each GPU host tries every agent socket and
// private key within its reach against the standby (as root and as its user) and the other slot.
// Nothing it finds may open anything; its decoy key, authorized on its own host, proves it would
// have noticed a login that worked.
import { failover } from "../../../stacks/failover/apply.ts";
import { addTargets, attackerScript, readAttackLog, startAttacker, targetLines, type AttackReport, type AttackTarget } from "../attacker.ts";
import type { Scenario } from "../scenario.ts";
import { expectThat, until } from "../world.ts";
import { names } from "./common.ts";

/** The onstart of every new GPU of the stack: the same attacker, its targets from the environment (Vast caps env values at 256 characters). */
const attackerOnstart = [
  "cat > /root/attack.sh <<'ATTACKER'", attackerScript.trimEnd(), "ATTACKER",
  "printf '%s' \"$ATTACK_TARGETS\" | tr ';' '\\n' > /root/attack-targets",
  ": > /root/attack.log",
  "nohup setsid bash /root/attack.sh >/dev/null 2>&1 < /dev/null &",
].join("\n");

function describe(report: AttackReport): string {
  return `${report.rounds} rounds, ${report.attempts} logins tried with ${report.credentialsSeen.length} credentials`;
}

export const agentAbuse: Scenario = {
  id: "agent-abuse",
  fault: "GPU hosts that try every agent socket and key they can reach",
  where: "during standby syncs and a planned failover (last sync, restore)",
  async run(world) {
    const s = await world.stack();
    await s.onGpu((ssh) => s.ledger.write(ssh, names("a", 8)));
    const ctx = await s.context();
    const standby = ctx.outputs.standby!;
    const old = ctx.slot().state;
    const standbyTargets: AttackTarget[] = [...new Set(["root", standby.user])].map((user) => ({ user, host: standby.host, port: standby.port }));
    // The old GPU attacks the standby and (control) itself.
    await s.onGpu((ssh) => startAttacker(ssh, [...standbyTargets, { user: "root", host: old.host, port: old.port }]));
    await s.onGpu(async (ssh) => until("the attacker's decoy login on its own host (the control)", async () => (await readAttackLog(ssh)).successes.some((l) => l.includes("key:/root/decoy")), 60_000));

    // Every new GPU attacks the standby and the old GPU from its first second.
    s.reconfigure({
      onstart: attackerOnstart,
      env: JSON.stringify({ ATTACK_TARGETS: targetLines([...standbyTargets, { user: "root", host: old.host, port: old.port }]).replaceAll("\n", ";") }),
    });

    for (let i = 0; i < 3; i++) await s.sync();
    let fromOld: AttackReport | undefined;
    let fromNew: AttackReport | undefined;
    const result = await failover({
      stack: s.name, fromInstanceId: old.instanceId, onProgress: world.log,
      afterStep: async (step) => {
        if (step.kind !== "provision" && step.kind !== "restore") return;
        const now = await s.context();
        const fresh = now.outputs.slots[step.slot];
        if (step.kind === "provision" && fresh) {
          // The old GPU learns where the new one is, and goes after it too.
          await now.withSlot({ instance: String(old.instanceId) }, (ssh) => addTargets(ssh, [{ user: "root", host: fresh.host, port: fresh.port }]));
        }
        if (step.kind === "restore" && fresh) {
          fromOld = await now.withSlot({ instance: String(old.instanceId) }, (ssh) => readAttackLog(ssh));
          fromNew = await now.withSlot({ instance: String(fresh.instanceId) }, (ssh) => readAttackLog(ssh));
        }
      },
    });
    expectThat(result.outcome === "failed-over", `the planned failover: ${result.outcome} ${result.reason ?? ""}`);
    expectThat(fromOld !== undefined && fromNew !== undefined, "the attackers' logs were not read after the restore");
    const controls = fromOld!.successes.filter((l) => l.includes("key:/root/decoy") && l.includes(`@${old.host}:${old.port}`));
    const breaches = [...fromOld!.successes, ...fromNew!.successes].filter((l) => !controls.includes(l));
    expectThat(controls.length > 0, "the old GPU's attacker never logged in with its decoy (the control): its failures prove nothing");
    expectThat(breaches.length === 0, `a GPU host logged in elsewhere: ${breaches.join("; ")}`);
    expectThat(fromNew!.rounds > 0 && fromNew!.attempts > 0, `the new GPU's attacker did not run (${describe(fromNew!)})`);
    return { detail: `old GPU: ${describe(fromOld!)}; new GPU: ${describe(fromNew!)}; no login worked but the control` };
  },
};
