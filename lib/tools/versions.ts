// The pinned versions live in one shell file that setup/setup.sh sources; this reads the same file
// so that doctor and env never disagree with what setup built.
import { readFileSync } from "node:fs";
import path from "node:path";
import { EnvironmentError } from "../errors.ts";
import { repoRoot } from "./paths.ts";

export interface PinnedVersions {
  readonly PULUMI_VERSION: string;
  readonly COMMAND_VERSION: string;
  readonly MINIO_VERSION: string;
  readonly S5CMD_VERSION: string;
  readonly NODE_VERSION: string;
  readonly GO_MIN_VERSION: string;
}

const versionsFile = path.join(repoRoot, "setup", "versions.sh");

export function parseVersionsFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([A-Z0-9_]+)=(\S+)\s*$/.exec(line);
    if (match) values[match[1]!] = match[2]!;
  }
  return values;
}

export function pinnedVersions(): PinnedVersions {
  const values = parseVersionsFile(readFileSync(versionsFile, "utf8"));
  const keys = ["PULUMI_VERSION", "COMMAND_VERSION", "MINIO_VERSION", "S5CMD_VERSION", "NODE_VERSION", "GO_MIN_VERSION"];
  for (const key of keys) {
    if (!values[key]) throw new EnvironmentError(`${versionsFile} does not set ${key}`, "this checkout's pinned versions are damaged: git checkout -- setup/versions.sh");
  }
  return values as unknown as PinnedVersions;
}
