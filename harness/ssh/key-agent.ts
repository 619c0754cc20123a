// An SSH agent inside the controller, forwarded to a host for one connection. A host can then log
// in to another host (rsync GPU → standby, standby → new GPU) with the environment's key while the
// key itself never leaves the controller: no private key is ever written to a GPU host.
import ssh2, { type GetStreamCallback, type IdentityCallback, type ParsedKey, type SignCallback, type SigningRequestOptions } from "ssh2";

// ssh2 is CommonJS: Node's ESM loader sees only some of its named exports.
const { AgentProtocol, BaseAgent, utils } = ssh2;

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

  /** Serves the agent protocol on a forwarded channel (what ssh2 asks an agent for). */
  override getStream(cb: GetStreamCallback): void {
    const protocol = new AgentProtocol(false);
    protocol.on("identities", (req) => protocol.getIdentitiesReply(req, [this.key]));
    protocol.on("sign", (req, _publicKey, data) => {
      const signature = this.key.sign(data);
      if (signature instanceof Error) protocol.failureReply(req);
      else protocol.signReply(req, signature);
    });
    cb(null, protocol);
  }
}
