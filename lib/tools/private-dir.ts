// The controller's state holds the passphrase that decrypts every stack secret, stack records, locks
// and the local cloud's credentials: nobody else on the machine may list or read any of it. Its
// folders are made owner-only (0700) wherever they are made; files holding a secret are written 0600.
import { chmodSync, mkdirSync, statSync } from "node:fs";
import { checkoutStateDir } from "./paths.ts";

export const privateDirMode = 0o700;
export const privateFileMode = 0o600;

/** Makes `dir` and any missing parent owner-only; returns `dir`. A folder that already exists keeps its mode. */
export function makePrivateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: privateDirMode });
  return dir;
}

/**
 * Takes group and other access away from the checkout's `.state`, which older Dumonts (and a plain
 * `mkdir -p`) made 0755. Only that folder: it is known to be Dumont's own, while a folder named by
 * DUMONT_STATE_DIR may be shared and is only ever made private when Dumont creates it.
 */
export function tightenCheckoutState(): void {
  let mode: number;
  try {
    mode = statSync(checkoutStateDir).mode;
  } catch {
    return;
  }
  if ((mode & 0o077) !== 0) chmodSync(checkoutStateDir, privateDirMode);
}
