// MinIO users with one policy each, made through MinIO's own admin client `mc` (built by setup):
// MinIO's admin API encrypts request bodies (a new user's secret among them), and mc is the client
// that speaks it. The root credentials reach mc in its environment (MC_HOST_<alias>) and a user's
// secret on its standard input, so neither is ever on a command line; policies are not secret and
// go through a file, because mc reads a policy from a path and a Node child's stdin is a socket
// that /dev/stdin cannot open.
import { spawn } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { privateFileMode } from "../../lib/tools/private-dir.ts";
import { which } from "../../lib/tools/which.ts";

export interface MinioRoot {
  /** MinIO itself (not the fault proxy): key management should not see injected S3 faults. */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** mc's alias for the cloud's MinIO, defined only in mc's environment. */
const alias = "localcloud";

export class MinioAdminError extends Error {}

export class MinioUsers {
  private readonly root: MinioRoot;
  /** mc's own config folder and the policy files, inside the cloud's private folder. */
  private readonly workDir: string;

  constructor(root: MinioRoot, workDir: string) {
    this.root = root;
    this.workDir = workDir;
  }

  /** Makes user `accessKey` with `secretKey`, allowed exactly what `policy` says; all or nothing. */
  async create(accessKey: string, secretKey: string, policy: object): Promise<void> {
    const policyName = policyNameOf(accessKey);
    const policyFile = path.join(this.workDir, `${policyName}.json`);
    await writeFile(policyFile, JSON.stringify(policy), { mode: privateFileMode });
    try {
      await this.mc(["admin", "policy", "create", alias, policyName, policyFile]);
    } finally {
      await rm(policyFile, { force: true });
    }
    try {
      await this.mc(["admin", "user", "add", alias, accessKey], `${secretKey}\n`);
      await this.mc(["admin", "policy", "attach", alias, policyName, "--user", accessKey]);
    } catch (error) {
      await this.remove(accessKey).catch(() => undefined);
      throw error;
    }
  }

  /** Removes the user and its policy; one already gone is no error. */
  async remove(accessKey: string): Promise<void> {
    await this.mc(["admin", "user", "rm", alias, accessKey], undefined, /not exist|not found/i);
    await this.mc(["admin", "policy", "rm", alias, policyNameOf(accessKey)], undefined, /not exist|not found/i);
  }

  /**
   * Runs mc with JSON output. A failure throws MinioAdminError with mc's own error text, never its
   * output (which, for `user add`, repeats the secret), unless its text matches `tolerated`.
   */
  private mc(args: readonly string[], input?: string, tolerated?: RegExp): Promise<void> {
    const mc = which("mc");
    if (!mc) return Promise.reject(new MinioAdminError("MinIO's client 'mc' is not on PATH: run `bash setup/setup.sh` (it builds it into .tools/)"));
    const url = new URL(this.root.endpoint);
    url.username = encodeURIComponent(this.root.accessKeyId);
    url.password = encodeURIComponent(this.root.secretAccessKey);
    return new Promise((resolve, reject) => {
      const child = spawn(mc, ["--config-dir", path.join(this.workDir, "mc"), "--json", "--no-color", ...args], {
        env: { PATH: process.env.PATH, HOME: this.workDir, [`MC_HOST_${alias}`]: url.toString().replace(/\/$/, "") },
        stdio: ["pipe", "pipe", "pipe"],
        timeout: 30_000,
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      child.stdin.end(input ?? "");
      child.on("error", (error) => reject(new MinioAdminError(`mc ${args.slice(0, 3).join(" ")}: ${error.message}`)));
      child.on("close", (code, signal) => {
        if (code === 0) return resolve();
        const reason = mcErrorText(stdout) ?? (stderr.trim() || `exit ${code ?? signal}`);
        if (tolerated?.test(reason)) return resolve();
        reject(new MinioAdminError(`mc ${args.slice(0, 3).join(" ")}: ${reason}`));
      });
    });
  }
}

/** The policy that belongs to the user `accessKey` alone. */
function policyNameOf(accessKey: string): string {
  return `b2-key-${accessKey}`;
}

/** mc's error, from its JSON output: `{"status":"error","error":{"message", "cause":{"message"}}}`. */
function mcErrorText(stdout: string): string | undefined {
  for (const line of stdout.split("\n")) {
    try {
      const parsed = JSON.parse(line) as { status?: string; error?: { message?: string; cause?: { message?: string } } };
      if (parsed.status === "error") return [parsed.error?.message, parsed.error?.cause?.message].filter(Boolean).join(": ");
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}
