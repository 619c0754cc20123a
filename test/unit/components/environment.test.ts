// What `pulumi up` declares, for the local and the real configuration: exact resources and names,
// and the security-relevant inputs (Spot VM, SSH-only firewall, secrets kept secret).
import { beforeEach, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { isSecretInput, publishedStandbyHostKey, recordRegistrations, secretValue, settle, valueOf, type Registration } from "../../support/pulumi-mocks.ts";

const { Environment, checkEnvironmentArgs } = await import("../../../components/environment.ts");
const { environmentArgs } = await import("../../../stacks/environment-args.ts");
const { readSettings } = await import("../../../stacks/settings.ts");

function settingsFor(config: Record<string, string>, env: Record<string, string> = {}, stack = "unit") {
  return readSettings({
    config: (k) => config[k],
    hasConfig: (k) => k in config,
    env: (n) => env[n],
  }, stack);
}

const byType = (regs: Registration[], type: string) => regs.filter((r) => r.type === type);

describe("a local environment", () => {
  let regs: Registration[];
  beforeEach(async () => {
    regs = await recordRegistrations({});
  });

  it("declares the key, one GPU in the active slot, the local standby and the bucket, with these names", async () => {
    const config = { cloud: "local", autoStandbyEnabled: "true" };
    const env = new Environment("env", environmentArgs(settingsFor(config), new pulumi.Config("dumont")));
    await valueOf(env.sshPublicKey);
    await settle();
    expect(regs.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      "dumont:index:Environment env",
      "dumont:index:GpuInstance env-gpu-a",
      "dumont:index:SnapshotBucket env-snapshots",
      "dumont:index:Standby env-standby",
      "pulumi-nodejs:dynamic/dumont:LocalStandbyHost env-standby-host",
      "pulumi-nodejs:dynamic/dumont:SnapshotBucket env-snapshots-bucket",
      "pulumi-nodejs:dynamic/dumont:SshKeyPair env-ssh",
      "pulumi-nodejs:dynamic/dumont:VastInstance env-gpu-a-instance",
    ]);
    const gpu = byType(regs, "pulumi-nodejs:dynamic/dumont:VastInstance")[0]!.inputs;
    expect(gpu).toMatchObject({ label: "dumont-unit-a", gpuNames: ["RTX 4090"], gpuCount: 1, diskGb: 32, maxPricePerHour: 1, minReliability: 0.95, verifiedOnly: true });
    expect(isSecretInput(gpu.sshPrivateKey)).toBe(true);
    const bucket = byType(regs, "pulumi-nodejs:dynamic/dumont:SnapshotBucket")[0]!.inputs;
    expect(bucket).toMatchObject({ bucketName: "dumont-unit", prefix: "snapshots/unit/", forceDestroy: true, createScopedKey: false, enableVersioning: true });
    expect(await pulumi.isSecret(env.sshPrivateKey)).toBe(true);
    expect(await pulumi.isSecret(env.sshPublicKey)).toBe(false);
  });

  it("keeps what the GPU runs at start and its environment secret, as inputs and as the provider's outputs", async () => {
    const seen: pulumi.ResourceTransformationArgs[] = [];
    const record: pulumi.ResourceTransformation = (args) => {
      seen.push(args);
      return undefined;
    };
    const config = { env: '{"HF_TOKEN":"hf_unit_secret"}', onstart: "echo start" };
    const env = new Environment("env", environmentArgs(settingsFor(config), new pulumi.Config("dumont")), { transformations: [record] });
    await valueOf(env.sshPublicKey);
    await settle();
    const gpu = byType(regs, "pulumi-nodejs:dynamic/dumont:VastInstance")[0]!.inputs;
    expect(isSecretInput(gpu.env)).toBe(true);
    expect(secretValue(gpu.env)).toEqual({ HF_TOKEN: "hf_unit_secret" });
    expect(isSecretInput(gpu.onstart)).toBe(true);
    expect(secretValue(gpu.onstart)).toBe("echo start");
    const options = seen.find((a) => a.type === "pulumi-nodejs:dynamic/dumont:VastInstance")!.opts as pulumi.CustomResourceOptions;
    expect(options.additionalSecretOutputs).toEqual(expect.arrayContaining(["env", "onstart", "sshPrivateKey"]));
  });

  it("has no standby when it is off (the seed's default) and both GPUs during a failover", async () => {
    const env = new Environment("env", environmentArgs(settingsFor({ slots: '["a","b"]', activeSlot: "b" }), new pulumi.Config("dumont")));
    await valueOf(env.sshPublicKey);
    await settle();
    expect(byType(regs, "pulumi-nodejs:dynamic/dumont:VastInstance").map((r) => [r.name, r.inputs.label])).toEqual([
      ["env-gpu-a-instance", "dumont-unit-a"],
      ["env-gpu-b-instance", "dumont-unit-b"],
    ]);
    expect(byType(regs, "dumont:index:Standby")).toHaveLength(0);
    expect(await valueOf(env.activeSlot)).toBe("b");
    // Its parts are its child components: a GPU per slot, with the instance it rented.
    expect(Object.keys(env.gpus)).toEqual(["a", "b"]);
    expect(await valueOf(env.gpus.b!.instance.sshHost)).toBe("10.0.0.2");
    expect(env.standby).toBeUndefined();
  });
});

describe("a real environment", () => {
  const realConfig = {
    cloud: "real", autoStandbyEnabled: "true", gcpProject: "my-project", vastApiKey: "k", bucketKeyId: "id", bucketApplicationKey: "secret",
    gcpCredentials: "{}", bucketName: "my-snapshots", standbySshSourceRanges: '["198.51.100.0/24"]',
  };
  let regs: Registration[];
  beforeEach(async () => {
    regs = await recordRegistrations(realConfig);
  });

  it("runs the standby as a GCP Spot VM that cannot restart itself, behind a firewall that opens SSH only", async () => {
    const args = environmentArgs(settingsFor(realConfig, { GCP_CREDENTIALS: '{"type":"service_account"}' }), new pulumi.Config("dumont"));
    expect(await pulumi.isSecret(pulumi.output(args.standby!.gcp!.credentials))).toBe(true);
    const env = new Environment("env", args);
    await valueOf(env.standby!.host);
    await settle();
    const vm = byType(regs, "gcp:compute/instance:Instance")[0]!;
    expect(vm.name).toBe("env-standby-vm");
    expect(vm.inputs.scheduling).toEqual({
      provisioningModel: "SPOT", preemptible: true, automaticRestart: false, onHostMaintenance: "TERMINATE", instanceTerminationAction: "STOP",
    });
    expect(vm.inputs.machineType).toBe("e2-medium");
    expect(vm.inputs.zone).toBe("europe-west1-b");
    expect(vm.inputs.bootDisk.initializeParams.size).toBe(100);
    const firewalls = byType(regs, "gcp:compute/firewall:Firewall");
    expect(firewalls).toHaveLength(1);
    expect(firewalls[0]!.inputs).toMatchObject({
      direction: "INGRESS", allows: [{ protocol: "tcp", ports: ["22"] }], targetTags: ["dumont-standby-unit"], sourceRanges: ["198.51.100.0/24"],
    });
    expect(vm.inputs.tags).toEqual(["dumont-standby-unit"]);
    const provider = byType(regs, "pulumi:providers:gcp")[0]!;
    expect(isSecretInput(provider.inputs.credentials)).toBe(true);
    expect(await valueOf(env.standby!.user)).toBe("dumont");
  });

  it("lets the standby make its own host key and pins the one it publishes: no private key in metadata or state", async () => {
    const env = new Environment("env", environmentArgs(settingsFor(realConfig), new pulumi.Config("dumont")));
    expect(await valueOf(env.standby!.hostKey)).toBe(publishedStandbyHostKey);
    await settle();
    const vm = byType(regs, "gcp:compute/instance:Instance")[0]!;
    expect(vm.inputs.metadata).toMatchObject({ "block-project-ssh-keys": "TRUE", "enable-guest-attributes": "TRUE", "enable-oslogin": "FALSE" });
    expect(JSON.stringify(vm.inputs)).not.toContain("PRIVATE KEY");
    expect(String(secretValue(vm.inputs.metadataStartupScript))).toContain("guest-attributes/dumont/hostkey");
    // The only key pair Dumont makes is the environment's login key.
    expect(byType(regs, "pulumi-nodejs:dynamic/dumont:SshKeyPair").map((r) => r.name)).toEqual(["env-ssh"]);
  });

  it("asks B2 for a key scoped to the bucket, and keeps the bucket when it is not empty", async () => {
    const env = new Environment("env", environmentArgs(settingsFor(realConfig), new pulumi.Config("dumont")));
    await valueOf(env.sshPublicKey);
    await settle();
    const bucket = byType(regs, "pulumi-nodejs:dynamic/dumont:SnapshotBucket")[0]!.inputs;
    expect(bucket).toMatchObject({ bucketName: "my-snapshots", createScopedKey: true, enableVersioning: false, forceDestroy: false });
  });
});

describe("environment args", () => {
  it("refuses an active slot without a GPU, naming the field", () => {
    expect(() => checkEnvironmentArgs({ activeSlot: "b", provisionedSlots: ["a"] })).toThrow(/activeSlot: 'b' has no GPU/);
  });
});
