// Faults on demand. A fault is armed through the admin API (or `dumont local-cloud fault …`) and
// consumed where it happens: the Vast API asks "is an offer-taken armed for this offer?", the S3
// proxy asks "should this request fail?". Host faults (kill, hang, link cut) act at once instead.
import { UserError } from "../lib/errors.ts";

export const apiFaultKinds = ["offer-taken", "rate-limit-storm", "ghost-instance", "stuck-loading", "read-lag", "auth-404", "key-attach-fails"] as const;
export const hostFaultKinds = ["host-killed", "host-hung", "host-resumed", "link-cut", "link-restored", "exited", "keys-dropped", "outbid", "outbid-ended"] as const;
export const s3FaultKinds = ["s3-errors", "s3-latency", "s3-stall", "s3-partition"] as const;
export const faultKinds = [...apiFaultKinds, ...hostFaultKinds, ...s3FaultKinds] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface FaultSpec {
  readonly kind: FaultKind;
  /**
   * Instance id or standby host name, for host faults; offer id for offer-taken; for s3-partition,
   * the application id one S3 client sends (AWS_SDK_UA_APP_ID: `app/<id>` in its user agent).
   */
  readonly target?: string;
  /** How many times it fires before it disarms (API faults); default 1. */
  readonly count?: number;
  /** S3 faults: fraction of requests that fail (0-1). */
  readonly rate?: number;
  /** S3 faults: HTTP status to answer (500, 503 SlowDown). */
  readonly status?: number;
  /** Delay for s3-latency and read-lag, in milliseconds. */
  readonly ms?: number;
  /** ghost-instance: whether the error body still names the new contract. */
  readonly withContract?: boolean;
}

export interface ArmedFault extends FaultSpec {
  readonly id: number;
  remaining: number;
}

/** A fault as asked for (by `dumont local-cloud fault` or the admin API), checked; what is wrong is the asker's to fix. */
export function validateFault(input: unknown): FaultSpec {
  if (typeof input !== "object" || input === null) throw new UserError("a fault is a JSON object with a 'kind'");
  const spec = input as Record<string, unknown>;
  if (!faultKinds.includes(spec.kind as FaultKind)) {
    throw new UserError(`unknown fault kind '${String(spec.kind)}'; known: ${faultKinds.join(", ")}`);
  }
  const kind = spec.kind as FaultKind;
  if ((hostFaultKinds as readonly string[]).includes(kind) && !spec.target) {
    throw new UserError(`fault '${kind}' needs a target: an instance id or a standby host name`, "give --target (see `npx dumont local-cloud status`)");
  }
  if (kind === "s3-partition" && (typeof spec.target !== "string" || !/^[\w.-]{1,50}$/.test(spec.target))) {
    throw new UserError("fault 's3-partition' needs a target: the application id the partitioned client sends (AWS_SDK_UA_APP_ID)", "give --target <app id>");
  }
  for (const key of ["count", "rate", "status", "ms"] as const) {
    if (spec[key] !== undefined && (typeof spec[key] !== "number" || Number.isNaN(spec[key]))) {
      throw new UserError(`fault '${kind}': ${key} must be a number`);
    }
  }
  if (spec.status !== undefined && (!Number.isInteger(spec.status) || (spec.status as number) < 400 || (spec.status as number) > 599)) {
    throw new UserError(`fault '${kind}': status must be an HTTP error status, 400 to 599 (e.g. 503 or 500)`);
  }
  if (spec.rate !== undefined && ((spec.rate as number) < 0 || (spec.rate as number) > 1)) {
    throw new UserError(`fault '${kind}': rate must be between 0 and 1`);
  }
  return spec as unknown as FaultSpec;
}

export class FaultBook {
  private nextId = 1;
  private armed: ArmedFault[] = [];

  arm(spec: FaultSpec): ArmedFault {
    const fault = { ...spec, id: this.nextId++, remaining: spec.count ?? 1 };
    this.armed.push(fault);
    return fault;
  }

  /** Consumes one firing of the first armed fault of this kind whose target matches (or has none). */
  take(kind: FaultKind, target?: string): ArmedFault | undefined {
    const fault = this.armed.find((f) => f.kind === kind && (f.target === undefined || f.target === target));
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.armed = this.armed.filter((f) => f !== fault);
    return fault;
  }

  /** A standing fault (S3 error rate, latency) stays until cleared. */
  standing(kind: FaultKind): ArmedFault | undefined {
    return this.armed.find((f) => f.kind === kind);
  }

  list(): readonly ArmedFault[] {
    return this.armed;
  }

  clear(): void {
    this.armed = [];
  }
}
