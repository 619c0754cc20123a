// The root filesystems the local cloud's hosts run (built by setup/images.sh from Debian's
// packages): a GPU instance runs the "gpu" image whatever image name it was rented with (a bare
// runtime userland, as Vast's CUDA/PyTorch images are), a standby the "standby" image (the GCP
// Debian image's equivalent). Nothing of the controller's own filesystem is visible in either.
import { existsSync } from "node:fs";
import path from "node:path";
import { EnvironmentError } from "../lib/errors.ts";
import { toolsDir } from "../lib/tools/paths.ts";

export type HostImage = "gpu" | "standby";

const imagesDir = path.join(toolsDir, "images");

/** The image's root filesystem (read-only to hosts: each one writes to its own overlay). */
export function imageRoot(image: HostImage): string {
  const root = path.join(imagesDir, image);
  if (!existsSync(path.join(root, "usr/sbin/sshd"))) {
    throw new EnvironmentError(`the local cloud's ${image} image is not built (${root})`, "run `bash setup/setup.sh`");
  }
  return root;
}

/** The .deb files and index hosts install Dumont's tools from (the provider's mirror). */
export function mirrorFolder(): string {
  return path.join(imagesDir, "mirror");
}
