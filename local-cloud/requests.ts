// What a client sends, checked the way Vast checks it, with Vast's wording: a rent (create) request,
// an SSH public key, an instance label. Pure: no state, only values or a VastError.
import { VastError } from "./vast/error.ts";

/** PUT /asks/{id}/ as a client sends it: any JSON at all. */
export interface RentRequest {
  readonly image?: unknown;
  readonly disk?: unknown;
  readonly label?: unknown;
  readonly env?: unknown;
  readonly onstart?: unknown;
  readonly runtype?: unknown;
  readonly price?: unknown;
  readonly args?: unknown;
}

/** A rent request that passed: what the instance is created with. */
export interface RentSpec {
  readonly image: string;
  readonly diskGb: number;
  readonly label: string;
  readonly env: Record<string, string>;
  readonly onstart: string;
  readonly runtype: string;
  /** $/h bid of an interruptible rent; on-demand when undefined. */
  readonly bid?: number;
}

export function parseRentRequest(request: RentRequest): RentSpec {
  const fail = (msg: string) => new VastError(400, "invalid_args", msg);
  if (typeof request.image !== "string" || request.image.trim() === "") throw fail("image is required");
  const diskGb = request.disk === undefined ? 10 : Number(request.disk);
  if (!Number.isFinite(diskGb) || diskGb < 8) throw fail("disk must be a number of GB, at least 8");
  const label = request.label === undefined || request.label === null ? "" : String(request.label);
  if (label.length > 256) throw fail("label must be at most 256 characters");
  const env: Record<string, string> = {};
  // Vast applies env only as a JSON object; a docker-flags string is ignored.
  if (typeof request.env === "object" && request.env !== null && !Array.isArray(request.env)) {
    for (const [key, value] of Object.entries(request.env)) {
      if (String(value).length > 256) throw fail(`env ${key}: values are limited to 256 characters`);
      env[key] = String(value);
    }
  }
  const onstart = typeof request.onstart === "string" ? request.onstart : "";
  const args = Array.isArray(request.args) ? request.args.join(" ") : "";
  if (onstart.length + args.length > 4096) throw fail("args, args_str and onstart together are limited to 4096 characters");
  let bid: number | undefined;
  if (request.price !== undefined && request.price !== null) {
    bid = Number(request.price);
    if (!Number.isFinite(bid) || bid < 0.001 || bid > 128) throw new VastError(400, "invalid_price", "price must be between 0.001 and 128 $/h");
  }
  return { image: request.image, diskGb, label, env, onstart, runtype: typeof request.runtype === "string" ? request.runtype : "ssh", bid };
}

/** An OpenSSH public key line, trimmed. */
export function parsePublicKey(key: string): string {
  if (typeof key !== "string" || !/^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+/.test(key.trim())) {
    throw new VastError(400, "invalid_args", "ssh_key must be an OpenSSH public key line");
  }
  return key.trim();
}

/** A new label for a live instance (a rent's label has its own, lower limit). */
export function parseLabel(label: string): string {
  if (label.length > 1024) throw new VastError(400, "label_too_long", "Please limit label length to 1024 characters, ideally less than 128.");
  return label;
}
