// Host keys as Dumont pins them: the OpenSSH public key line ("ssh-ed25519 AAAA…"), compared by
// the key blob, shown by SHA256 fingerprint as ssh-keygen does.
import { createHash } from "node:crypto";

export function keyBlob(publicKeyLine: string): Buffer {
  const parts = publicKeyLine.trim().split(/\s+/);
  if (parts.length < 2 || !/^[A-Za-z0-9+/]+=*$/.test(parts[1]!)) throw new Error(`not an OpenSSH public key line: '${publicKeyLine.slice(0, 40)}…'`);
  return Buffer.from(parts[1]!, "base64");
}

export function keyLine(blob: Buffer): string {
  // The blob starts with its own type name as an SSH string (uint32 length, bytes).
  const typeLength = blob.readUInt32BE(0);
  const type = blob.subarray(4, 4 + typeLength).toString("ascii");
  return `${type} ${blob.toString("base64")}`;
}

export function fingerprint(blobOrLine: Buffer | string): string {
  const blob = typeof blobOrLine === "string" ? keyBlob(blobOrLine) : blobOrLine;
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}
