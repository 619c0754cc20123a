// How one local cloud names what it creates on the machine. Every kernel object carries the cloud's
// prefix, so that `down` (and a test) can find all of it by name, even after a crash.
import { createHash } from "node:crypto";
import { UserError } from "../lib/errors.ts";

/** Interface names are limited to 15 bytes, so cloud names stay short. */
export const cloudNamePattern = /^[a-z][a-z0-9]{0,4}$/;

export interface CloudNames {
  readonly cloud: string;
  /** Prefix of every namespace and link of this cloud. */
  readonly prefix: string;
  readonly bridge: string;
  /** First three octets of the cloud's /24, e.g. "10.177.1". */
  readonly subnet: string;
  readonly gateway: string;
  namespace(hostIndex: number): string;
  hostVeth(hostIndex: number): string;
  address(hostIndex: number): string;
}

export const maxHostsPerCloud = 250;

export function cloudNames(cloud: string): CloudNames {
  if (!cloudNamePattern.test(cloud)) {
    throw new UserError(`local cloud name '${cloud}' must be 1-5 lowercase letters or digits, starting with a letter`, "give another --cloud (or DUMONT_LOCAL_CLOUD, or dumont:localCloud)");
  }
  const prefix = `dmt${cloud}`;
  // The default cloud gets 10.177.1.0/24; others a /24 derived from the name (checked free at start).
  const third = cloud === "main" ? 1 : 2 + (createHash("sha256").update(cloud).digest()[0]! % 250);
  const subnet = `10.177.${third}`;
  return {
    cloud,
    prefix,
    bridge: `${prefix}br`,
    subnet,
    gateway: `${subnet}.1`,
    namespace: (i) => `${prefix}-${i}`,
    hostVeth: (i) => `${prefix}v${i}`,
    address: (i) => {
      if (!Number.isInteger(i) || i < 1 || i > maxHostsPerCloud) throw new Error(`host index ${i} out of range 1-${maxHostsPerCloud}`);
      return `${subnet}.${i + 1}`;
    },
  };
}
