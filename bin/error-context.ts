// What the error translation (error-translation.ts) needs to know about this machine: which local
// cloud served at an address (so a refused connection names it, even one whose daemon died and
// left its endpoints file), and where the stack passphrase comes from.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { checkoutStateDir } from "../lib/tools/paths.ts";
import { passphraseFile } from "../lib/tools/environment.ts";
import type { TranslationContext } from "./error-translation.ts";

/** host:port of every URL a local cloud's endpoints file lists, by cloud name. */
function localCloudAddresses(): Map<string, string> {
  const byAddress = new Map<string, string>();
  const root = path.join(checkoutStateDir, "local-cloud");
  let clouds: string[];
  try {
    clouds = readdirSync(root);
  } catch {
    return byAddress;
  }
  for (const cloud of clouds) {
    let endpoints: { vast?: { url?: string }; admin?: { url?: string }; s3?: { endpoint?: string; directEndpoint?: string } };
    try {
      endpoints = JSON.parse(readFileSync(path.join(root, cloud, "endpoints.json"), "utf8"));
    } catch {
      continue;
    }
    for (const url of [endpoints.vast?.url, endpoints.admin?.url, endpoints.s3?.endpoint, endpoints.s3?.directEndpoint]) {
      try {
        if (url) byAddress.set(new URL(url).host, cloud);
      } catch {
        // not a URL: nothing to match
      }
    }
  }
  return byAddress;
}

export function errorContext(env: NodeJS.ProcessEnv = process.env): TranslationContext {
  return {
    localCloudAt: (host, port) => localCloudAddresses().get(`${host.includes(":") ? `[${host}]` : host}:${port}`),
    passphraseSource: env.PULUMI_CONFIG_PASSPHRASE !== undefined ? "PULUMI_CONFIG_PASSPHRASE" : (env.PULUMI_CONFIG_PASSPHRASE_FILE ?? passphraseFile),
  };
}
