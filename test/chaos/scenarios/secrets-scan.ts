// Secrets stay secret: a stack whose settings hold secrets — what the GPU runs at start and its
// environment, and Vast, B2 and GCP credentials (fakes the local cloud never uses) — is made, takes
// a snapshot, syncs its standby and moves to a new GPU through a snapshot. Every process's
// arguments are listed every 200 ms throughout (the controller's, the engine's and the hosts'),
// and afterwards every file Dumont writes is searched: the Pulumi backend, the state folders, the
// stack's settings file, Pulumi's home, the journey's reports, and this scenario's log with what
// `dumont instance list --json` printed (Vast hands an instance's env back). No secret,
// nor the passphrase or the environment's private key, may be found in plain text; no presigned
// URL or private key may have been on a command line.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { checkoutStateDir, repoRoot, stateDir } from "../../../lib/tools/paths.ts";
import { passphraseFile, toolEnvironment } from "../../../lib/tools/environment.ts";
import { failover } from "../../../stacks/failover/apply.ts";
import { secret } from "../../../stacks/stack-file.ts";
import { stackConfigFile } from "../../../stacks/stack-files.ts";
import { Controller } from "../controller.ts";
import type { Scenario } from "../scenario.ts";
import { filesUnder, ProcessArgumentsWatch, redacted, searchFiles, secretsIn, type Secret } from "../secret-search.ts";
import { until, type ChaosStack, expectThat } from "../world.ts";
import { describeRestore, names } from "./common.ts";

/** Where the onstart script leaves what it saw of its environment, on the GPU host: proof the secrets reached it. */
const envSeenFile = "/root/.dumont-env-seen";

/** Values no run of anything else could contain; only letters, digits and dashes, so no encoding changes them. */
function fakeSecrets(): Record<"env" | "onstart" | "vastApiKey" | "bucketKeyId" | "bucketApplicationKey" | "gcpPrivateKey", Secret> {
  const tag = randomBytes(12).toString("hex");
  return {
    env: { name: "the GPU's env value (dumont:env)", value: `dumont-leak-env-${tag}` },
    onstart: { name: "the GPU's onstart script (dumont:onstart)", value: `dumont-leak-onstart-${tag}` },
    vastApiKey: { name: "the Vast API key (dumont:vastApiKey)", value: `dumont-leak-vast-${tag}` },
    bucketKeyId: { name: "the B2 key id (dumont:bucketKeyId)", value: `dumont-leak-b2-id-${tag}` },
    bucketApplicationKey: { name: "the B2 application key (dumont:bucketApplicationKey)", value: `dumont-leak-b2-key-${tag}` },
    gcpPrivateKey: { name: "the GCP service account's key (dumont:gcpCredentials)", value: `dumont-leak-gcp-${tag}` },
  };
}

/**
 * A line of a PEM key found only where the key itself is: the second to last of its body holds the
 * private bytes (the first lines are the same in every OpenSSH key, and the middle ones hold the
 * public key, which may be anywhere).
 */
function privateKeyLine(privateKey: string): string {
  const body = privateKey.trim().split("\n").filter((l) => l && !l.startsWith("-----"));
  return body.length >= 3 ? body.at(-2)! : privateKey.trim();
}

function passphrase(): string {
  return process.env.PULUMI_CONFIG_PASSPHRASE ?? readFileSync(process.env.PULUMI_CONFIG_PASSPHRASE_FILE ?? passphraseFile, "utf8");
}

/** Every local cloud's hosts' folders and /workspace disks (.state/local-cloud/<cloud>/hosts and disks): the hosts' own files, not Dumont's. */
function hostDisks(): string[] {
  const clouds = path.join(checkoutStateDir, "local-cloud");
  return existsSync(clouds) ? readdirSync(clouds).flatMap((cloud) => [path.join(clouds, cloud, "hosts"), path.join(clouds, cloud, "disks")]) : [];
}

/** The journey's reports where `npm run journey` writes them (the checkout's folder), if any run left them. */
function journeyReports(): string[] {
  return readdirSync(repoRoot).filter((name) => /^failover_.*\.(json|html)$/.test(name)).map((name) => path.join(repoRoot, name));
}

/** What the active GPU's onstart script wrote of its environment (it runs in the background after sshd starts). */
function envSeenOnGpu(s: ChaosStack): Promise<string> {
  return s.onGpu(async (ssh) => {
    let seen = "";
    await until("the GPU's onstart script to write what it saw", async () => {
      seen = (await ssh.run(["cat", envSeenFile], { allowFailure: true, timeoutMs: 10_000 })).stdout;
      return seen !== "";
    }, 30_000);
    return seen;
  });
}

export const secretsScan: Scenario = {
  id: "secrets-scan",
  fault: "none (secrets in the settings)",
  where: "state, logs, reports, files and process arguments",
  async run(world) {
    const fake = fakeSecrets();
    const logged: string[] = [];
    const log = (line: string) => {
      logged.push(line);
      world.log(line);
    };
    const watch = new ProcessArgumentsWatch(200);
    // From before the stack exists: setting its secrets is watched too.
    watch.start();
    let s: ChaosStack;
    let moved: Awaited<ReturnType<typeof failover>>;
    let environmentKey: string;
    try {
      s = await world.stack({
        env: secret(JSON.stringify({ HF_TOKEN: fake.env.value })),
        onstart: secret(`#!/bin/sh\n# ${fake.onstart.value}\nprintf '%s' "$HF_TOKEN" > ${envSeenFile}\n`),
        vastApiKey: secret(fake.vastApiKey.value),
        bucketKeyId: secret(fake.bucketKeyId.value),
        bucketApplicationKey: secret(fake.bucketApplicationKey.value),
        gcpCredentials: secret(JSON.stringify({ type: "service_account", private_key: fake.gcpPrivateKey.value })),
      });
      environmentKey = (await s.context()).outputs.sshPrivateKey;
      // The secrets are not only kept from view: the GPU got them.
      expectThat(await envSeenOnGpu(s) === fake.env.value, "the GPU's onstart script did not see the env value it was given");
      // Large enough that every transfer's curl lives through several process listings.
      await s.onGpu((ssh) => s.ledger.write(ssh, names("data/blob", 3), 16 * 1024 * 1024));
      await s.snapshot("secrets-scan", "full");
      log("snapshot made");
      await s.sync();
      log("standby synced");
      moved = await failover({ stack: s.name, source: "snapshot", onProgress: log });
      expectThat(moved.outcome === "failed-over", `the move ended ${moved.outcome}: ${moved.reason ?? ""}`);
      expectThat(await envSeenOnGpu(s) === fake.env.value, "the new GPU's onstart script did not see the env value it was given");
      // Vast hands an instance's env and onstart back: what `dumont instance list --json` prints is a report too.
      const listing = new Controller(["instance", "list", "--stack", s.name, "--json"]);
      const listed = await listing.done;
      expectThat(listed.code === 0, `dumont instance list exited ${listed.code ?? listed.signal}: ${listing.lines.slice(-3).join(" / ")}`);
      logged.push(...listing.lines);
    } finally {
      await watch.stop();
    }

    const secrets: Secret[] = [
      ...Object.values(fake),
      { name: "the Pulumi passphrase", value: passphrase().trim() },
      { name: "the environment's SSH private key", value: privateKeyLine(environmentKey) },
    ];
    const problems: string[] = [];

    // Process arguments, on the controller and on the hosts.
    const bucket = (await s.context()).outputs.bucket.name;
    for (const line of watch.seen((l) => secretsIn(l, secrets).length > 0)) {
      problems.push(`a command line held ${secretsIn(line, secrets).map((x) => x.name).join(", ")}: ${redacted(line, secrets)}`);
    }
    for (const line of watch.seen((l) => l.includes("X-Amz-Signature=") && l.includes(bucket))) {
      problems.push(`a command line held a presigned URL of the stack's bucket: ${redacted(line.replace(/X-Amz-Signature=[0-9a-f]+/g, "X-Amz-Signature=<signature>"), secrets)}`);
    }
    for (const line of watch.seen((l) => /PRIVATE KEY-----/.test(l))) {
      problems.push(`a command line held a private key: ${redacted(line.replace(/[A-Za-z0-9+/=]{40,}/g, "<base64>"), secrets)}`);
    }
    expectThat(watch.polls > 10, `the process list was read only ${watch.polls} times (${watch.failures} failed)`);

    // Files: the backend, the state folders (the hosts' own disks aside: what a host holds is the
    // host's), the stack's settings file, Pulumi's home (its plugins aside), the journey's reports.
    const backend = process.env.PULUMI_BACKEND_URL?.startsWith("file://") ? fileURLToPath(process.env.PULUMI_BACKEND_URL) : undefined;
    const pulumiHome = process.env.PULUMI_HOME ?? toolEnvironment().PULUMI_HOME!;
    const files = filesUnder(
      [...(backend ? [backend] : []), stateDir, checkoutStateDir, stackConfigFile(s.name), pulumiHome, ...journeyReports()],
      [...hostDisks(), path.join(pulumiHome, "plugins"), path.resolve(process.env.PULUMI_CONFIG_PASSPHRASE_FILE ?? passphraseFile)],
    );
    const searched = await searchFiles(files, secrets);
    for (const f of searched.findings) problems.push(`${path.relative(repoRoot, f.file) || f.file} holds ${f.secret}`);

    // What this scenario logged (the failover's progress and the instance listing included): the chaos log.
    for (const line of logged) if (secretsIn(line, secrets).length > 0) problems.push(`the log holds ${secretsIn(line, secrets).map((x) => x.name).join(", ")}: ${redacted(line, secrets)}`);

    expectThat(problems.length === 0, `${problems.length} leak(s): ${problems.slice(0, 8).join(" | ")}`);
    return {
      detail: `${secrets.length} secrets (env and onstart, which the GPUs got; Vast, B2, GCP; the passphrase; the SSH key) in plain text nowhere: `
        + `${watch.polls} process listings (${watch.distinctLines} distinct command lines), ${searched.files} files (${(searched.bytes / 1e6).toFixed(0)} MB) searched; `
        + `moved through ${describeRestore(moved)}`,
    };
  },
};
