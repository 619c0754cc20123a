// What a rent adds to a Vast instance's inputs: the instance, where it answers, its host key, machine
// and rates, and when it was asked for and got ready. A failover rents outside the engine and
// records this part (it holds no secret: the inputs hold the key, onstart and env); the provider
// then takes the instance into the state as it was rented (instance-operations.ts: adoptInstance).
// Its own file, with no imports but types: the program and the provider's declaration load it.
import type { VastInstanceInputs, VastInstanceOutputs } from "./instance-operations.ts";

/** What a rent adds to the inputs: every output that is not an input. */
export type RentedInstance = Omit<VastInstanceOutputs, keyof VastInstanceInputs>;

/** The fields of RentedInstance, for the provider to declare and for a rent to be recorded by (the type checker keeps the list whole). */
export const rentedFields = Object.keys({
  instanceId: 0, vastLabel: 0, offerId: 0, machineId: 0, gpuName: 0, numGpus: 0, location: 0, reliability: 0, sshHost: 0, sshPort: 0,
  sshPath: 0, publicIp: 0, hostKey: 0, dphBase: 0, dphTotal: 0, storageCostPerGbMonth: 0, inetUpCostPerGb: 0, inetDownCostPerGb: 0,
  status: 0, rentRequestedAt: 0, runningAt: 0, sshReadyAt: 0, onDemandPerHour: 0,
} satisfies Record<keyof RentedInstance, 0>) as (keyof RentedInstance)[];

/** The rent's part of a provider's outputs, which holds no secret (the inputs hold the key, onstart and env). */
export function rentedPart(outputs: VastInstanceOutputs): RentedInstance {
  return Object.fromEntries(rentedFields.filter((f) => outputs[f] !== undefined).map((f) => [f, outputs[f]])) as unknown as RentedInstance;
}

