// The fields of Vast's answers that Dumont acts on, checked before use: where SSH answers (a host
// and a port that end up in an ssh2 connection, in `ssh -p` and rsync command lines and in
// known_hosts lines) and ids (which end up in API paths). Vast's answers, like a host's output, are
// input from outside: a host name like "-oProxyCommand=…", a port of "22 -o …" or an id of "../"
// must be refused, not passed on.
import { isIP } from "node:net";
import { DumontError } from "../../lib/errors.ts";
import { sanitizeHostLine } from "../../dataplane/ssh/sanitize.ts";

/** A field of Vast's answer that is present but not what it must be. */
export class VastFieldError extends DumontError {
  readonly field: string;
  constructor(field: string, value: unknown, expected: string) {
    super(`Vast returned ${field} = ${shown(value)}, which is not ${expected}; refusing to use it`);
    this.field = field;
  }
}

function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(sanitizeHostLine(value, 80));
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return typeof value;
}

/** One DNS label: letters, digits and inner hyphens, at most 63 characters (RFC 1123). */
const hostLabel = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A host name (RFC 1123, at most 253 characters, one trailing dot allowed) or an IPv4/IPv6 literal. */
export function isHostAddress(text: string): boolean {
  if (isIP(text) !== 0) return true;
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  // All-numeric dotted names are IPv4 addresses or nothing (isIP refused them above).
  if (labels.every((l) => /^\d+$/.test(l))) return false;
  return labels.every((label) => hostLabel.test(label));
}

/** The host of an SSH endpoint: trimmed (Vast ends public_ipaddr with a newline), else refused. */
export function checkedHost(value: unknown, field: string): string {
  const text = typeof value === "string" ? value.trim() : undefined;
  if (text === undefined || !isHostAddress(text)) throw new VastFieldError(field, value, "a host name or IP address");
  return text;
}

/** A TCP port: a whole number from 1 to 65535, as a number or a decimal string (Docker's HostPort). */
export function checkedPort(value: unknown, field: string): number {
  const port = typeof value === "number" ? value : typeof value === "string" && /^\d{1,5}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new VastFieldError(field, value, "a port from 1 to 65535");
  return port;
}

/** An instance, offer, machine or contract id: a positive whole number. */
export function isVastId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

export function checkedId(value: unknown, field: string): number {
  if (!isVastId(value)) throw new VastFieldError(field, value, "a positive whole number");
  return value;
}

/** A field Vast has not filled in yet (before an instance runs): absent, null or empty. */
export function isUnset(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === "string" && value.trim() === "");
}
