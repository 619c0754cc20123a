// The local cloud's Backblaze B2 account, as its native API sees it: the master application key
// (MinIO's root credentials, so that, as on B2, one key pair works on the native and the S3 API),
// the application keys made with b2_create_key (each a MinIO user whose policy enforces its
// bucket and name prefix, key-policy.ts), authorization tokens, and bucket ids for MinIO's buckets.
// Keys and tokens live as long as the cloud's daemon, like everything else the cloud holds.
import { ListBucketsCommand } from "@aws-sdk/client-s3";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { objectStoreClient } from "../../dataplane/object-store/client.ts";
import { b2Capabilities, KeyScopeError, minioPolicyOf } from "./key-policy.ts";
import { MinioAdminError, type MinioRoot, type MinioUsers } from "./minio-users.ts";

/** An answer in B2's error envelope: `{status, code, message}`. */
export class B2Error extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Who a token speaks for: the master key or an application key, with what it may do. */
export interface Principal {
  readonly keyId: string;
  readonly capabilities: readonly string[];
  /** null: every bucket. */
  readonly bucketIds: readonly string[] | null;
  readonly namePrefix: string | null;
}

export interface ApplicationKey extends Principal {
  readonly keyName: string;
}

export interface Bucket {
  readonly bucketId: string;
  readonly bucketName: string;
}

export interface KeyRequest {
  readonly keyName: string;
  readonly capabilities: readonly string[];
  readonly bucketIds: readonly string[] | null;
  readonly namePrefix: string | null;
}

interface StoredKey extends ApplicationKey {
  readonly secretDigest: Buffer;
}

const digest = (secret: string) => createHash("sha256").update(secret).digest();

/** A string of `length` letters and digits, like B2's application keys. */
function alphanumeric(length: number): string {
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let text = "";
  while (text.length < length) {
    // 248 is the largest multiple of 62 up to 256: bytes from it on are skipped, so no letter is favoured.
    for (const byte of randomBytes(length)) if (byte < 248 && text.length < length) text += letters[byte % 62];
  }
  return text;
}

export class B2Account {
  /** B2 account ids are 12 hex digits; this one follows from the root key, so it is stable for a cloud. */
  readonly accountId: string;
  private readonly root: MinioRoot & { readonly region: string };
  private readonly users: MinioUsers;
  private readonly keys = new Map<string, StoredKey>();
  private readonly tokens = new Map<string, string>();

  constructor(root: MinioRoot & { readonly region: string }, users: MinioUsers) {
    this.root = root;
    this.users = users;
    this.accountId = createHash("sha256").update(root.accessKeyId).digest("hex").slice(0, 12);
  }

  private get master(): Principal {
    return { keyId: this.root.accessKeyId, capabilities: b2Capabilities, bucketIds: null, namePrefix: null };
  }

  /** A new token for a key pair; B2 also takes the account id in place of the master key's id. */
  authorize(keyId: string, secret: string): { token: string; principal: Principal } {
    const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
    let principal: Principal | undefined;
    if ((keyId === this.root.accessKeyId || keyId === this.accountId) && same(digest(secret), digest(this.root.secretAccessKey))) principal = this.master;
    const key = this.keys.get(keyId);
    if (key && same(digest(secret), key.secretDigest)) principal = key;
    if (!principal) throw new B2Error(401, "unauthorized", "the application key id or the application key is wrong");
    const token = `4_${this.accountId}_${randomBytes(24).toString("base64url")}`;
    this.tokens.set(token, principal.keyId);
    return { token, principal };
  }

  /** Whom `token` speaks for; a token of a key deleted since is no longer good. */
  principal(token: string | undefined): Principal {
    const keyId = token ? this.tokens.get(token) : undefined;
    const principal = keyId === this.root.accessKeyId ? this.master : keyId ? this.keys.get(keyId) : undefined;
    if (!principal) throw new B2Error(401, "bad_auth_token", "the authorization token is not valid");
    return principal;
  }

  /** The account's buckets (MinIO's), each with an id that follows from its name. */
  async buckets(): Promise<Bucket[]> {
    const s3 = objectStoreClient({ ...this.root, maxAttempts: 2 });
    const listed = await s3.send(new ListBucketsCommand({}));
    return (listed.Buckets ?? []).map((b) => ({ bucketName: b.Name!, bucketId: this.bucketIdOf(b.Name!) }));
  }

  private bucketIdOf(name: string): string {
    return createHash("sha256").update(`${this.accountId}/${name}`).digest("hex").slice(0, 24);
  }

  async createKey(request: KeyRequest): Promise<{ key: ApplicationKey; applicationKey: string }> {
    const buckets = await this.buckets();
    const bucketNames = (request.bucketIds ?? []).map((id) => {
      const found = buckets.find((b) => b.bucketId === id);
      if (!found) throw new B2Error(400, "bad_request", `bucketId '${id}' is not a bucket of account ${this.accountId}`);
      return found.bucketName;
    });
    const scope = { capabilities: request.capabilities, bucketNames, namePrefix: request.namePrefix ?? "" };
    let policy: object;
    try {
      policy = minioPolicyOf(scope);
    } catch (error) {
      if (error instanceof KeyScopeError) throw new B2Error(400, "bad_request", error.message);
      throw error;
    }
    // Shaped like B2's: 25 characters for the id, a 31-character key starting with K.
    const keyId = `004${this.accountId}${randomBytes(5).toString("hex")}`;
    const applicationKey = `K004${alphanumeric(27)}`;
    try {
      await this.users.create(keyId, applicationKey, policy);
    } catch (error) {
      if (error instanceof MinioAdminError) throw new B2Error(503, "service_unavailable", `the local cloud could not make the key in MinIO: ${error.message}`);
      throw error;
    }
    const key: StoredKey = {
      keyName: request.keyName, keyId, capabilities: [...request.capabilities], bucketIds: request.bucketIds ? [...request.bucketIds] : null,
      namePrefix: request.namePrefix, secretDigest: digest(applicationKey),
    };
    this.keys.set(keyId, key);
    return { key: publicView(key), applicationKey };
  }

  async deleteKey(keyId: string): Promise<ApplicationKey> {
    if (keyId === this.root.accessKeyId) throw new B2Error(400, "bad_request", "the master application key cannot be deleted");
    const key = this.keys.get(keyId);
    if (!key) throw new B2Error(400, "bad_request", `applicationKeyId '${keyId}' not found`);
    try {
      await this.users.remove(keyId);
    } catch (error) {
      if (error instanceof MinioAdminError) throw new B2Error(503, "service_unavailable", `the local cloud could not remove the key from MinIO: ${error.message}`);
      throw error;
    }
    this.keys.delete(keyId);
    for (const [token, owner] of this.tokens) if (owner === keyId) this.tokens.delete(token);
    return publicView(key);
  }
}

function publicView(key: StoredKey): ApplicationKey {
  const { secretDigest: _secret, ...rest } = key;
  return rest;
}
