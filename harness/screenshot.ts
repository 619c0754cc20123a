// A picture of the HTML report, taken by headless Chromium (Debian's chromium-headless-shell): the
// proof that the page renders, and something to attach to a ticket. Offline by construction: the
// page loads nothing, and the browser is told not to reach the network for its own purposes either.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { $ } from "zx";
import { EnvironmentError } from "../lib/errors.ts";

const chromiumBinaries = ["chromium-headless-shell", "chromium"] as const;

export async function findChromium(): Promise<string> {
  for (const name of chromiumBinaries) {
    const found = await $({ quiet: true, nothrow: true })`command -v ${name}`;
    if (found.exitCode === 0) return found.stdout.trim();
  }
  throw new EnvironmentError("no headless Chromium found", "run setup (bash setup/setup.sh) or: apt-get install -y chromium-headless-shell");
}

export async function screenshot(htmlFile: string, pngFile: string, size = { width: 1100, height: 1000 }): Promise<void> {
  const chromium = await findChromium();
  const profile = mkdtempSync(path.join(tmpdir(), "dumont-chromium-"));
  try {
    await $({ quiet: true, timeout: "60s" })`${chromium} --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking --disable-component-update --disable-sync --no-first-run --hide-scrollbars --user-data-dir=${profile} --window-size=${size.width},${size.height} --screenshot=${path.resolve(pngFile)} ${`file://${path.resolve(htmlFile)}`}`;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
