// An SSH agent inside the controller, forwarded to a host for one connection. A host can then log
// in to another host (rsync GPU → standby, standby → new GPU) with the environment's key while the
// key itself never leaves the controller: no private key is ever written to a GPU host.
//
// It speaks the agent protocol itself (draft-miller-ssh-agent) for the three messages a client
// needs: list identities, sign, and "no" to anything else. ssh2's own AgentProtocol loses its
// place after an unknown message (OpenSSH sends a session-bind extension first), so it is not used.
import { Duplex } from "node:stream";
import ssh2, { type GetStreamCallback, type IdentityCallback, type ParsedKey, type SignCallback, type SigningRequestOptions } from "ssh2";

// ssh2 is CommonJS: Node's ESM loader sees only some of its named exports.
const { BaseAgent, utils } = ssh2;

const FAILURE = 5;
const REQUEST_IDENTITIES = 11;
const IDENTITIES_ANSWER = 12;
const SIGN_REQUEST = 13;
const SIGN_RESPONSE = 14;
const RSA_SHA2_256 = 2;
const RSA_SHA2_512 = 4;

function sshString(data: Buffer | string): Buffer {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function message(type: number, ...fields: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from([type]), ...fields]);
  return Buffer.concat([sshString(body).subarray(0, 4), body]);
}

/** Reads an SSH string at offset; returns it and the offset after it. */
function readString(buffer: Buffer, offset: number): [Buffer, number] {
  const length = buffer.readUInt32BE(offset);
  return [buffer.subarray(offset + 4, offset + 4 + length), offset + 4 + length];
}

/** Answers one agent request (the body after the length prefix). */
export function answerAgentRequest(key: ParsedKey, body: Buffer): Buffer {
  const publicBlob = key.getPublicSSH();
  switch (body[0]) {
    case REQUEST_IDENTITIES: {
      const count = Buffer.alloc(4);
      count.writeUInt32BE(1);
      return message(IDENTITIES_ANSWER, count, sshString(publicBlob), sshString(key.comment || "dumont"));
    }
    case SIGN_REQUEST: {
      const [blob, afterBlob] = readString(body, 1);
      const [data, afterData] = readString(body, afterBlob);
      const flags = body.readUInt32BE(afterData);
      if (!blob.equals(publicBlob)) return message(FAILURE);
      let format: string = key.type;
      let hash: "sha256" | "sha512" | undefined;
      if (key.type === "ssh-rsa" && flags & RSA_SHA2_512) [format, hash] = ["rsa-sha2-512", "sha512"];
      else if (key.type === "ssh-rsa" && flags & RSA_SHA2_256) [format, hash] = ["rsa-sha2-256", "sha256"];
      const signature = key.sign(data, hash);
      if (signature instanceof Error) return message(FAILURE);
      return message(SIGN_RESPONSE, sshString(Buffer.concat([sshString(format), sshString(signature)])));
    }
    default:
      return message(FAILURE);
  }
}

/** One forwarded agent connection: frames requests and writes the answers back. */
class AgentConnection extends Duplex {
  private pending = Buffer.alloc(0);
  private readonly key: ParsedKey;

  constructor(key: ParsedKey) {
    super();
    this.key = key;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 4) {
      const length = this.pending.readUInt32BE(0);
      if (this.pending.length < 4 + length) break;
      const body = this.pending.subarray(4, 4 + length);
      this.pending = this.pending.subarray(4 + length);
      try {
        this.push(answerAgentRequest(this.key, body));
      } catch {
        this.push(message(FAILURE));
      }
    }
    done();
  }

  override _read(): void {
    // Answers are pushed as requests arrive.
  }
}

export class ForwardedKeyAgent extends BaseAgent<ParsedKey> {
  private readonly key: ParsedKey;

  constructor(privateKey: string | Buffer) {
    super();
    const parsed = utils.parseKey(privateKey);
    if (parsed instanceof Error) throw new Error(`cannot use the private key for agent forwarding: ${parsed.message}`);
    this.key = Array.isArray(parsed) ? parsed[0]! : parsed;
  }

  getIdentities(cb: IdentityCallback<ParsedKey>): void {
    cb(null, [this.key]);
  }

  sign(_publicKey: ParsedKey, data: Buffer, options: SigningRequestOptions | SignCallback, cb?: SignCallback): void {
    const callback = (typeof options === "function" ? options : cb)!;
    const signature = this.key.sign(data);
    if (signature instanceof Error) callback(signature);
    else callback(null, signature);
  }

  /** A fresh agent connection for each forwarded channel the host opens. */
  override getStream(cb: GetStreamCallback): void {
    cb(null, new AgentConnection(this.key));
  }
}
