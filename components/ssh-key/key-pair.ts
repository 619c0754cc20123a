// An SSH key pair made by ssh-keygen and kept in the stack's state, the private half as a Pulumi
// secret. Dumont makes one per environment when the user brings none: for logging in to the GPU
// and standby hosts, and (as a host key) so a standby's identity is pinned before it first boots.
import * as pulumi from "@pulumi/pulumi";

export interface KeyPairInputs {
  /** Comment in the public key line, e.g. "dumont-local". */
  readonly comment: string;
}

export interface KeyPairOutputs extends KeyPairInputs {
  readonly publicKey: string;
  readonly privateKey: string;
}

const keyPairProvider: pulumi.dynamic.ResourceProvider<KeyPairInputs, KeyPairOutputs> = {
  async create(inputs) {
    const { execFile } = await import("node:child_process");
    const { mkdtemp, readFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const dir = await mkdtemp(path.join(tmpdir(), "dumont-key-"));
    try {
      const file = path.join(dir, "id_ed25519");
      await new Promise<void>((resolve, reject) =>
        execFile("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", inputs.comment, "-f", file], (error) => (error ? reject(error) : resolve())),
      );
      const outs = { ...inputs, publicKey: (await readFile(`${file}.pub`, "utf8")).trim(), privateKey: await readFile(file, "utf8") };
      return { id: outs.publicKey.split(" ")[1]!.slice(-16), outs };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
  async diff(_id, olds, news) {
    const replaces = olds.comment !== news.comment ? ["comment"] : [];
    return { changes: replaces.length > 0, replaces };
  },
};

export class SshKeyPair extends pulumi.dynamic.Resource {
  declare readonly publicKey: pulumi.Output<string>;
  declare readonly privateKey: pulumi.Output<string>;

  constructor(name: string, args: { comment: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
    super(keyPairProvider, name, { ...args, publicKey: undefined, privateKey: undefined }, { ...opts, additionalSecretOutputs: ["privateKey"] }, "dumont", "SshKeyPair");
  }
}
