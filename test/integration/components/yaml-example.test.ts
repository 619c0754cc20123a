// Dumont from another Pulumi language: `pulumi up` of examples/yaml (a Pulumi YAML program that
// declares `dumont:Environment` from Dumont's component package) on the local cloud, with the
// real engine, the YAML language host built from its Go module and the package's component
// provider. The GPU and the standby answer SSH with the environment's key and pinned host keys,
// the bucket exists, the instance is labelled apart from any stack of Dumont's own project, and
// `pulumi destroy` leaves nothing in the emulator, the hosts or the bucket list.
import { ListBucketsCommand } from "@aws-sdk/client-s3";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isStackLabel } from "../../../components/vast/labels.ts";
import { objectStoreClient } from "../../../dataplane/object-store/client.ts";
import { connect } from "../../../dataplane/ssh/client.ts";
import { VastClient } from "../../../clouds/vast/client.ts";
import { LocalCloudAdmin } from "../../../local-cloud/admin-client.ts";
import { down, up } from "../../../local-cloud/control.ts";
import type { Endpoints } from "../../../local-cloud/endpoints.ts";
import { ensureStackStorage } from "../../../lib/tools/environment.ts";
import { repoRoot } from "../../../lib/tools/paths.ts";
import { componentStackName } from "../../../pulumi-package/environment.ts";

const cloud = "yml";
const stack = "it-yaml";
const project = "dumont-yaml-example";
const example = path.join(repoRoot, "examples", "yaml");
let endpoints: Endpoints;
let created = false;

const pulumi = async (...args: string[]) => {
  const { stdout } = await promisify(execFile)("pulumi", [...args, "--stack", stack, "--non-interactive", "--cwd", example], { maxBuffer: 64 << 20 });
  return stdout;
};

beforeAll(async () => {
  endpoints = await up({ cloud, settings: { loadingDelayMs: 200, runningDelayMs: 300 } });
  ensureStackStorage();
  await promisify(execFile)("pulumi", ["stack", "init", stack, "--non-interactive", "--cwd", example]);
  created = true;
  await pulumi("config", "set", "dumont:localCloud", cloud);
});
afterAll(async () => {
  if (created) {
    await pulumi("destroy", "--yes").catch(() => undefined);
    await pulumi("stack", "rm", "--yes", "--force");
  }
  await down(cloud);
});

describe("examples/yaml: a Dumont environment declared in Pulumi YAML", () => {
  it("pulumi up creates a GPU and a standby reachable with the environment's key and pinned host keys, and the bucket", async () => {
    await pulumi("up", "--yes", "--skip-preview");
    const out = JSON.parse(await pulumi("stack", "output", "--json", "--show-secrets"));
    const [gpuHost, gpuPort] = (out.gpuSsh as string).split(":");
    const gpu = await connect({ host: gpuHost!, port: Number(gpuPort), privateKey: out.sshPrivateKey, hostKey: out.gpuHostKey });
    expect((await gpu.run(["sh", "-c", "test -d /workspace && echo gpu"])).stdout).toBe("gpu\n");
    gpu.close();
    const [, user, standbyHost, standbyPort] = /^(.+)@(.+):(\d+)$/.exec(out.standbySsh)!;
    const standby = await connect({ host: standbyHost!, port: Number(standbyPort), username: user!, privateKey: out.sshPrivateKey, hostKey: out.standbyHostKey });
    expect((await standby.run(["sh", "-c", "test -d /workspace && echo standby"])).stdout).toBe("standby\n");
    standby.close();
    const buckets = await objectStoreClient(endpoints.s3).send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.map((b) => b.Name)).toContain(out.bucket);
    // The login key is a secret in the outputs and in the state, never there in clear.
    expect(JSON.parse(await pulumi("stack", "output", "--json")).sshPrivateKey).toBe("[secret]");
    const keyBody = (out.sshPrivateKey as string).split("\n").find((line) => line.length > 40)!;
    expect(await pulumi("stack", "export")).not.toContain(keyBody);
  });

  it("labels the GPU for the example's own project and stack, never as a stack of Dumont's project", async () => {
    const [instance] = await new VastClient({ baseUrl: endpoints.vast.url, apiKey: endpoints.vast.apiKey }).listInstances();
    expect(isStackLabel(componentStackName(project, stack, "env"), instance!.label)).toBe(true);
    expect(isStackLabel(stack, instance!.label)).toBe(false);
  });

  it("a second preview sees no changes", async () => {
    await pulumi("preview", "--expect-no-changes");
  });

  it("pulumi destroy leaves no instance, standby host or bucket", async () => {
    await pulumi("destroy", "--yes", "--skip-preview");
    expect(await new VastClient({ baseUrl: endpoints.vast.url, apiKey: endpoints.vast.apiKey }).listInstances()).toEqual([]);
    const status = await new LocalCloudAdmin(endpoints).status();
    expect(status.instances).toEqual([]);
    expect(status.standbys).toEqual([]);
    const buckets = await objectStoreClient(endpoints.s3).send(new ListBucketsCommand({}));
    expect(buckets.Buckets ?? []).toEqual([]);
  });
});
