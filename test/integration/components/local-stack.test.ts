// `pulumi up` of a local stack through the real engine: a reachable GPU host, a standby host and
// a bucket; no changes on a second look; a host destroyed behind Pulumi's back is noticed by
// refresh; and destroy leaves nothing in the emulator, the hosts or the bucket list.
import { GetBucketLifecycleConfigurationCommand, ListBucketsCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloudAdmin } from "../../../local-cloud/admin-client.ts";
import { down, up } from "../../../local-cloud/control.ts";
import type { Endpoints } from "../../../local-cloud/endpoints.ts";
import { objectStoreClient } from "../../../dataplane/object-store/client.ts";
import { connect } from "../../../dataplane/ssh/client.ts";
import { VastClient } from "../../../clouds/vast/client.ts";
import { createTestStack, type TestStack } from "../../support/test-stack.ts";
import { readFileBackendOutputs } from "../../../stacks/file-backend-state.ts";
import { dumontConfig, readStackConfig } from "../../../stacks/stack-config.ts";
import { outputValues } from "../../../stacks/stack-context.ts";
import { toolEnvironment } from "../../../lib/tools/environment.ts";

const cloud = "stk";
let endpoints: Endpoints;
let env: TestStack;

beforeAll(async () => {
  endpoints = await up({ cloud, settings: { loadingDelayMs: 200, runningDelayMs: 300 } });
  env = await createTestStack("it-env", {
    cloud: "local", localCloud: cloud, gpuNames: ["RTX 4090"], diskGb: 16, maxPricePerHour: 0.6, readyTimeoutSeconds: 60, autoStandbyEnabled: true,
  });
});
afterAll(async () => {
  await env?.cleanup();
  await down(cloud);
});

describe("a local stack through the real engine", () => {
  it("up creates a GPU host and a standby reachable with the stack's key and pinned host keys, and the bucket", async () => {
    const result = await env.stack.up();
    const out = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value]));
    expect(result.outputs.sshPrivateKey!.secret).toBe(true);
    expect(out.activeSlot).toBe("a");
    expect(out.slots.b).toBeNull();
    const privateKey = out.sshPrivateKey as string;
    const gpu = await connect({ host: out.slots.a.host, port: out.slots.a.port, privateKey, hostKey: out.slots.a.hostKey });
    expect((await gpu.run(["sh", "-c", "test -d /workspace && echo gpu"])).stdout).toBe("gpu\n");
    gpu.close();
    const standby = await connect({ host: out.standby.host, port: out.standby.port, username: out.standby.user, privateKey, hostKey: out.standby.hostKey });
    expect((await standby.run(["sh", "-c", "test -d /workspace && echo standby"])).stdout).toBe("standby\n");
    standby.close();
    const s3 = objectStoreClient(endpoints.s3);
    const buckets = await s3.send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.map((b) => b.Name)).toContain(out.bucket.name);
    const lifecycle = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: out.bucket.name }));
    expect(lifecycle.Rules?.[0]).toMatchObject({ Status: "Enabled", NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Filter: { Prefix: `snapshots/${env.name}/` } });
  });

  it("its outputs read from the file backend without the engine, and its config read with one CLI start, are the engine's", async () => {
    const tools = { ...process.env, ...toolEnvironment() };
    const outputs = await readFileBackendOutputs(env.name, tools);
    expect(outputs).toEqual(outputValues(await env.stack.outputs()));
    expect(outputs?.sshPrivateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    const config = await readStackConfig(env.name, tools);
    expect(config).toEqual(dumontConfig(await env.stack.getAllConfig()));
    expect(config).toMatchObject({ cloud: "local", diskGb: "16", gpuNames: '["RTX 4090"]' });
  });

  it("preview right after sees no changes", async () => {
    await env.stack.preview({ expectNoChanges: true });
  });

  it("refresh notices a GPU instance destroyed behind Pulumi's back, and up replaces it", async () => {
    const before = (await env.stack.outputs()).slots!.value.a.instanceId as number;
    await new VastClient({ baseUrl: endpoints.vast.url, apiKey: endpoints.vast.apiKey }).destroyInstance(before);
    const refresh = await env.stack.refresh();
    expect(refresh.summary.resourceChanges?.delete).toBe(1);
    const state = await env.stack.exportStack();
    expect(state.deployment.resources.some((r: any) => r.type === "pulumi-nodejs:dynamic/dumont:VastInstance")).toBe(false);
    const again = await env.stack.up();
    expect(again.outputs.slots!.value.a.instanceId).not.toBe(before);
  });

  it("destroy leaves no instance, standby host or bucket", async () => {
    await env.stack.destroy();
    const vast = new VastClient({ baseUrl: endpoints.vast.url, apiKey: endpoints.vast.apiKey });
    expect(await vast.listInstances()).toEqual([]);
    const status = await new LocalCloudAdmin(endpoints).status();
    expect(status.instances).toEqual([]);
    expect(status.standbys).toEqual([]);
    const buckets = await objectStoreClient(endpoints.s3).send(new ListBucketsCommand({}));
    expect(buckets.Buckets ?? []).toEqual([]);
  });
});
