// `dumont instance create`: one GPU rented outside any stack's failover, for trying things by hand
// (the seed guide's manual test). It is rented by the Vast provider's own code (offer ranking,
// taken offers skipped, lost replies reconciled by label, running + SSH login awaited, the host
// key pinned, the instance destroyed if it never gets ready), with the requirements of a stack's
// settings (which also say which cloud and account), under a name of its own (throwaway-labels.ts)
// and with a key made for it alone: a throwaway never holds the key of a stack's environment.
import { newEd25519Pair } from "../../dataplane/ssh/key-pair.ts";
import { createInstance, destroyAndConfirm, ProvisioningError, type VastInstanceInputs } from "../../components/vast/instance-operations.ts";
import { throwawayNameProblem } from "../../components/vast/throwaway-labels.ts";
import { vastAccess } from "../../clouds/cloud-access.ts";
import { DumontError, SettingError } from "../../lib/errors.ts";
import { VastClient } from "../../clouds/vast/client.ts";
import type { StackContext } from "../stack-context.ts";
import { saveThrowaway, type ThrowawayRecord } from "./records.ts";

export interface ThrowawayRequest {
  readonly name: string;
  /** GPU models as Vast spells them ("RTX 4090"); the stack's dumont:gpuNames when absent. */
  readonly gpuNames?: readonly string[];
}

/** The seed's spelling `RTX_4090` (Vast's CLI), or a comma-separated list, as Vast's API names GPUs. */
export function gpuNamesOf(text: string): string[] {
  return text.split(",").map((name) => name.trim().replaceAll("_", " ")).filter(Boolean);
}

/** What the provider is asked for: the stack's requirements and image, nothing the stack runs or knows. */
function instanceInputs(ctx: StackContext, request: ThrowawayRequest, keys: { public: string; private: string }): VastInstanceInputs {
  const g = ctx.settings.gpu;
  return {
    gpuNames: [...(request.gpuNames ?? g.gpuNames)], gpuCount: g.gpuCount, diskGb: g.diskGb, maxPricePerHour: g.maxPricePerHour,
    minReliability: g.minReliability, verifiedOnly: g.verifiedOnly, datacenterOnly: g.datacenterOnly, geolocation: [...g.geolocation],
    rentType: g.rentType, bidMargin: g.bidMargin,
    directSsh: g.directSsh, excludeMachineIds: [...g.excludeMachineIds], image: g.image,
    // The stack's onstart script and its environment are the stack's secrets, for its own GPUs.
    onstart: "", env: {},
    label: request.name, sshPublicKey: keys.public, sshPrivateKey: keys.private,
    readyTimeoutSeconds: g.readyTimeoutSeconds,
    // The local cloud answers in milliseconds; Vast asks clients to poll every few seconds.
    pollIntervalSeconds: ctx.settings.cloud === "local" ? 0.5 : 5,
  };
}

/** Refuses, naming the flag, a request that could not be rented as asked (before anything is printed or rented). */
export function checkThrowawayRequest(request: ThrowawayRequest): void {
  const problem = throwawayNameProblem(request.name);
  if (problem) throw new SettingError("--name", problem, "e.g. --name test-failover-1");
  if (request.gpuNames && request.gpuNames.length === 0) throw new SettingError("--gpu", "name at least one GPU model", "e.g. --gpu RTX_4090 or --gpu 'RTX 4090,RTX 3090'");
}

/** Rents, waits until a login works, and records the instance; a GPU that cannot be recorded is destroyed. */
export async function rentThrowaway(ctx: StackContext, request: ThrowawayRequest, log: (line: string) => void): Promise<ThrowawayRecord> {
  checkThrowawayRequest(request);
  const access = await vastAccess(ctx.access);
  const keys = newEd25519Pair(`dumont-throwaway-${request.name}`);
  const inputs = instanceInputs(ctx, request, keys);
  let rented;
  try {
    rented = await createInstance(access, inputs, log);
  } catch (error) {
    if (!(error instanceof ProvisioningError)) throw error;
    throw new DumontError(`no GPU rented: ${error.message}`, {
      cause: error,
      hint: `other models (--gpu), or the stack's requirements: dumont:maxPricePerHour (GPU_MAX_PRICE), dumont:minReliability, dumont:diskGb in stacks/Pulumi.${ctx.name}.yaml`,
    });
  }
  const record: ThrowawayRecord = {
    format: "dumont-throwaway/1", instanceId: rented.instanceId, name: request.name, vastLabel: rented.vastLabel, stack: ctx.name,
    host: rented.sshHost, port: rented.sshPort, user: "root", hostKey: rented.hostKey, privateKey: keys.private,
    gpuName: rented.gpuName, numGpus: rented.numGpus, machineId: rented.machineId, dphTotal: rented.dphTotal, createdAt: new Date().toISOString(),
  };
  try {
    saveThrowaway(record);
  } catch (error) {
    // Nobody could log in to it or find it by its key: it must not run (and bill) unseen.
    await destroyAndConfirm(new VastClient(access), rented.instanceId);
    throw new DumontError(`instance ${rented.instanceId} was destroyed again: its record could not be written (${(error as Error).message})`, { cause: error });
  }
  return record;
}
