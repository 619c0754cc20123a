// What a running local cloud tells the rest of Dumont: where its Vast API, admin API, S3 endpoint
// and B2 native API are, and the credentials for them. Written by the daemon to
// .state/local-cloud/<cloud>/endpoints.json (mode 0600) once everything answers.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { checkoutStateDir } from "../lib/tools/paths.ts";

export interface Endpoints {
  readonly cloud: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly dir: string;
  readonly vast: { readonly url: string; readonly apiKey: string };
  readonly admin: { readonly url: string; readonly token: string };
  readonly s3: {
    /** Reachable from the controller and from every host; faults are injected here. */
    readonly endpoint: string;
    readonly region: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    /** MinIO itself on loopback, without the fault proxy. */
    readonly directEndpoint: string;
  };
  /**
   * Backblaze B2's native API (b2/api.ts), for application keys limited to a bucket and prefix.
   * The account's master key is the S3 key pair above, as on B2, where one key works on both APIs.
   */
  readonly b2: { readonly url: string };
  readonly network: { readonly bridge: string; readonly gateway: string; readonly subnet: string };
  readonly minioPid: number;
}

export const defaultCloudName = "main";

export function cloudDir(cloud: string): string {
  return path.join(checkoutStateDir, "local-cloud", cloud);
}

/** True while the process runs; a zombie (dead, not yet reaped by its parent) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** The endpoints of a running cloud, or undefined if it is not running. */
export async function readEndpoints(cloud = defaultCloudName): Promise<Endpoints | undefined> {
  const raw = await readFile(path.join(cloudDir(cloud), "endpoints.json"), "utf8").catch(() => undefined);
  if (!raw) return undefined;
  const endpoints = JSON.parse(raw) as Endpoints;
  return isAlive(endpoints.pid) ? endpoints : undefined;
}
