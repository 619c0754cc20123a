// The smallest real thing Dumont does through the real engine: `up` a stack holding one
// dynamic-provider resource (a marker file) and one @pulumi/command local command (its MD5), check
// `preview` sees no changes, then `destroy` and check the file is gone. `dumont smoke` runs it;
// the foundation tests use it.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import { EnvironmentError } from "../lib/errors.ts";
import { shellQuote } from "../lib/tools/environment.ts";
import { openInlineStack } from "./workspace.ts";

interface MarkerFileInputs {
  readonly path: string;
  readonly content: string;
}

// Everything the provider needs is imported inside its methods: the engine runs a serialized copy
// of this object in another process, where captured module objects would not survive.
const markerFileProvider: pulumi.dynamic.ResourceProvider<MarkerFileInputs, MarkerFileInputs> = {
  async create(inputs) {
    const fs = await import("node:fs/promises");
    await fs.writeFile(inputs.path, inputs.content, { flag: "wx" });
    return { id: inputs.path, outs: inputs };
  },
  async diff(_id, olds, news) {
    const replaces = (["path", "content"] as const).filter((key) => olds[key] !== news[key]);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
  },
  async read(id, props) {
    const fs = await import("node:fs/promises");
    const content = await fs.readFile(id, "utf8").catch(() => undefined);
    // A blank id tells the engine the file is gone (refresh then drops it from the state).
    return content === undefined ? { id: "" } : { id, props: { ...props, path: id, content } };
  },
  async delete(id) {
    const fs = await import("node:fs/promises");
    await fs.rm(id, { force: true });
  },
};

class MarkerFile extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;
  declare readonly content: pulumi.Output<string>;
  constructor(name: string, args: { path: pulumi.Input<string>; content: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
    super(markerFileProvider, name, args, opts, "dumont", "smoke:MarkerFile");
  }
}

export function smokeProgram(markerPath: string, content: string): PulumiFn {
  return async () => {
    const marker = new MarkerFile("marker", { path: markerPath, content });
    const digest = new command.local.Command("digest", {
      create: marker.path.apply((p) => `md5sum -- ${shellQuote(p)} | cut -d' ' -f1`),
      logging: "none",
    });
    return { path: marker.path, md5: digest.stdout };
  };
}

export interface SmokeResult {
  readonly md5: string;
  readonly upSeconds: number;
  readonly previewSeconds: number;
  readonly destroySeconds: number;
}

export interface SmokeOptions {
  readonly stack: string;
  readonly dir: string;
  readonly backendUrl?: string;
  readonly log?: (line: string) => void;
}

/** A smoke run that completes but gives the wrong answer means a broken engine or plugin build. */
const engineHint = "the engine or the command plugin misbehaves: rebuild them with `npm run setup` (`npx dumont doctor` shows their versions)";

/** up → preview (expecting no changes) → destroy → remove the stack; throws on any mismatch. */
export async function runSmoke(options: SmokeOptions): Promise<SmokeResult> {
  const log = options.log ?? (() => {});
  const markerPath = path.join(options.dir, `${options.stack}.marker`);
  const content = `dumont smoke ${new Date().toISOString()}\n`;
  const stack = await openInlineStack({
    project: "dumont-smoke", stack: options.stack, program: smokeProgram(markerPath, content), backendUrl: options.backendUrl,
  });
  const seconds = (t0: number) => (performance.now() - t0) / 1000;
  try {
    let t0 = performance.now();
    log("up: creating a marker file (dynamic provider) and its MD5 (command provider)");
    const up = await stack.up({ onOutput: (s) => log(s.trimEnd()) });
    const upSeconds = seconds(t0);
    const md5 = String(up.outputs.md5?.value);
    const expected = createHash("md5").update(readFileSync(markerPath)).digest("hex");
    if (md5 !== expected) throw new EnvironmentError(`command output ${md5} is not the marker's MD5 ${expected}`, engineHint);

    t0 = performance.now();
    log("preview: expecting no changes");
    await stack.preview({ expectNoChanges: true });
    const previewSeconds = seconds(t0);

    t0 = performance.now();
    log("destroy");
    await stack.destroy({ onOutput: (s) => log(s.trimEnd()) });
    const destroySeconds = seconds(t0);
    if (existsSync(markerPath)) throw new EnvironmentError(`destroy left ${markerPath} behind`, engineHint);
    return { md5, upSeconds, previewSeconds, destroySeconds };
  } finally {
    // A failed run still must not leave the marker or the stack behind.
    await stack.destroy().catch(() => undefined);
    await stack.workspace.removeStack(options.stack).catch(() => undefined);
  }
}
