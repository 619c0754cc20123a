// How fast the local cloud starts and how many hosts it holds on this machine.
//   node test/bench/local-cloud-capacity.ts [HOSTS]      (default 250, the per-cloud maximum)
// Starts a cloud named "cap", adds standby hosts one by one (each: namespace, veth, sshd), then
// checks every host answers SSH, prints the figures, and takes everything down again.
import { readFileSync } from "node:fs";
import { LocalCloudAdmin } from "../../local-cloud/admin-client.ts";
import { down, up } from "../../local-cloud/control.ts";
import { namespacePids } from "../../local-cloud/network.ts";
import { connect } from "../../dataplane/ssh/client.ts";
import { applyToolEnvironment } from "../../lib/tools/environment.ts";
import { makeKeyPair } from "../support/local-cloud.ts";

applyToolEnvironment();
const target = Number(process.argv[2] ?? 250);
const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
const memAvailableMb = () => Number(/MemAvailable:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))![1]) / 1024;

const t0 = performance.now();
const endpoints = await up({ cloud: "cap" });
const upSeconds = (performance.now() - t0) / 1000;
const admin = new LocalCloudAdmin(endpoints);
const key = makeKeyPair();
const memBefore = memAvailableMb();
const hosts = [];
const t1 = performance.now();
try {
  for (let i = 0; i < target; i++) {
    hosts.push(await admin.createStandby(`h${i}`, [key.publicKey]));
    if ((i + 1) % 50 === 0) console.error(`  ${i + 1} hosts…`);
  }
  const createSeconds = (performance.now() - t1) / 1000;
  let rss = 0;
  for (const h of hosts) for (const pid of await namespacePids(h.namespace)) rss += rssKb(pid);
  const t2 = performance.now();
  let answered = 0;
  for (const h of hosts) {
    const ssh = await connect({ host: h.address, port: h.sshPort, privateKey: key.privateKey, hostKey: h.hostKey });
    if ((await ssh.run(["true"])).code === 0) answered++;
    ssh.close();
  }
  const sshSeconds = (performance.now() - t2) / 1000;
  console.log(`local cloud up:            ${upSeconds.toFixed(2)} s (bridge, MinIO, S3 proxy, Vast API)`);
  console.log(`hosts started:             ${hosts.length} in ${createSeconds.toFixed(1)} s (${((createSeconds / hosts.length) * 1000).toFixed(0)} ms each)`);
  console.log(`hosts answering SSH:       ${answered}/${hosts.length} (connect+auth+exec ${((sshSeconds / hosts.length) * 1000).toFixed(0)} ms each)`);
  console.log(`resident memory of hosts:  ${(rss / 1024).toFixed(0)} MiB (${(rss / hosts.length / 1024).toFixed(1)} MiB per host)`);
  console.log(`MemAvailable drop:         ${(memBefore - memAvailableMb()).toFixed(0)} MiB`);
} finally {
  const t3 = performance.now();
  await down("cap");
  console.log(`local cloud down:          ${((performance.now() - t3) / 1000).toFixed(1)} s`);
}
