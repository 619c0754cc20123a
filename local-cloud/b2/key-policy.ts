// What a Backblaze B2 application key may do, said in MinIO's policy language, so that MinIO itself
// refuses what B2 would refuse: a key made by the local cloud's b2_create_key is a MinIO user with
// this policy, and nothing else stands between it and the bucket. Pure, so the rendering is tested
// without a server.
//
// Capabilities (B2 native API v4, b2_create_key) map to S3 actions on four kinds of resource:
//   account  every bucket's name (s3:ListAllMyBuckets)
//   bucket   the buckets the key is limited to, whatever the name prefix
//   listing  listing those buckets, only under the name prefix (condition s3:prefix)
//   objects  the objects under the name prefix in those buckets
// The key-management capabilities concern the native API alone (api.ts checks them) and grant no
// S3 action. A capability the local cloud does not emulate is refused when the key is made, so a
// test never passes on a key that real B2 would treat differently.

/** Every capability name b2_create_key accepts (B2 native API v4). */
export const b2Capabilities = [
  "listKeys", "writeKeys", "deleteKeys", "listAllBucketNames", "listBuckets", "readBuckets", "writeBuckets", "deleteBuckets",
  "readBucketRetentions", "writeBucketRetentions", "readBucketEncryption", "writeBucketEncryption", "writeBucketNotifications",
  "readBucketNotifications", "listFiles", "readFiles", "shareFiles", "writeFiles", "deleteFiles", "readFileLegalHolds",
  "writeFileLegalHolds", "readFileRetentions", "writeFileRetentions", "bypassGovernance",
] as const;

export type B2Capability = (typeof b2Capabilities)[number];

/** What B2 lets a key limited to buckets have: no key management, no creating or deleting buckets. */
const bucketScopedCapabilities: ReadonlySet<string> = new Set<B2Capability>([
  "listAllBucketNames", "listBuckets", "readBuckets", "readBucketEncryption", "writeBucketNotifications", "readBucketNotifications",
  "writeBucketEncryption", "readBucketRetentions", "writeBucketRetentions", "listFiles", "readFiles", "shareFiles", "writeFiles",
  "deleteFiles", "readFileLegalHolds", "writeFileLegalHolds", "readFileRetentions", "writeFileRetentions", "bypassGovernance",
]);

type ResourceKind = "account" | "bucket" | "listing" | "objects";

interface Grant {
  readonly on: ResourceKind;
  readonly actions: readonly string[];
}

/**
 * The capabilities the local cloud emulates and what each allows. listFiles grants listing
 * unfinished uploads on the whole bucket: MinIO accepts no s3:prefix condition on
 * s3:ListBucketMultipartUploads, and without it Dumont's prune (which lists its prefix's uploads)
 * could not run on a scoped key. Such a listing shows the names and upload ids of other prefixes'
 * unfinished uploads, never their data: reading, writing, aborting or listing their parts is
 * object-scoped and refused.
 */
const grants: Readonly<Partial<Record<B2Capability, readonly Grant[]>>> = {
  listKeys: [],
  writeKeys: [],
  deleteKeys: [],
  listAllBucketNames: [{ on: "account", actions: ["s3:ListAllMyBuckets"] }],
  // MinIO's ListBuckets shows a user without s3:ListAllMyBuckets the buckets it may locate.
  listBuckets: [{ on: "bucket", actions: ["s3:GetBucketLocation"] }],
  readBuckets: [{ on: "bucket", actions: ["s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:GetLifecycleConfiguration"] }],
  listFiles: [{ on: "listing", actions: ["s3:ListBucket", "s3:ListBucketVersions"] }, { on: "bucket", actions: ["s3:ListBucketMultipartUploads"] }],
  readFiles: [{ on: "objects", actions: ["s3:GetObject", "s3:GetObjectVersion"] }],
  // s3:PutObject covers a multipart upload's create, parts and completion, and conditional writes.
  writeFiles: [{ on: "objects", actions: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"] }],
  deleteFiles: [{ on: "objects", actions: ["s3:DeleteObject", "s3:DeleteObjectVersion"] }],
};

export const emulatedCapabilities: readonly B2Capability[] = b2Capabilities.filter((c) => grants[c] !== undefined);

export interface KeyScope {
  readonly capabilities: readonly string[];
  /** The buckets (by name) the key is limited to; empty: every bucket of the account. */
  readonly bucketNames: readonly string[];
  /** Only file names starting with this; "" for every name. */
  readonly namePrefix: string;
}

/** A key the local cloud cannot make as asked: the B2 API answers 400 bad_request with this message. */
export class KeyScopeError extends Error {}

/**
 * Throws KeyScopeError for a scope B2 refuses (a capability it does not know, or one a key limited
 * to buckets may not have) or one the local cloud cannot enforce exactly (a capability it does not
 * emulate; a name prefix with `*`, `?` or `$`, which MinIO's policy language reads as wildcards and
 * variables, where B2 compares names literally).
 */
export function checkKeyScope(scope: KeyScope): void {
  if (scope.capabilities.length === 0) throw new KeyScopeError("capabilities: name at least one");
  for (const capability of scope.capabilities) {
    if (!(b2Capabilities as readonly string[]).includes(capability)) throw new KeyScopeError(`capabilities: '${capability}' is not a B2 capability`);
    if (scope.bucketNames.length > 0 && !bucketScopedCapabilities.has(capability)) {
      throw new KeyScopeError(`capabilities: a key limited to buckets cannot have '${capability}'`);
    }
    if (grants[capability as B2Capability] === undefined) {
      throw new KeyScopeError(`capabilities: the local cloud does not emulate '${capability}' (it emulates ${emulatedCapabilities.join(", ")})`);
    }
  }
  if (/[*?$]/.test(scope.namePrefix)) {
    throw new KeyScopeError(`namePrefix '${scope.namePrefix}': the local cloud cannot limit a key to a prefix holding '*', '?' or '$' (MinIO's policies read them as patterns)`);
  }
}

interface PolicyStatement {
  readonly Effect: "Allow" | "Deny";
  readonly Action: string[];
  readonly Resource: string[];
  readonly Condition?: { readonly StringLike: { readonly "s3:prefix": string[] } };
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: PolicyStatement[];
}

/** The MinIO policy that lets a key do exactly what its scope allows on S3 (checkKeyScope first). */
export function minioPolicyOf(scope: KeyScope): PolicyDocument {
  checkKeyScope(scope);
  const buckets = scope.bucketNames.length > 0 ? scope.bucketNames : ["*"];
  const resources: Record<ResourceKind, string[]> = {
    account: ["arn:aws:s3:::*"],
    bucket: buckets.map((b) => `arn:aws:s3:::${b}`),
    listing: buckets.map((b) => `arn:aws:s3:::${b}`),
    objects: buckets.map((b) => `arn:aws:s3:::${b}/${scope.namePrefix}*`),
  };
  const actionsOn = new Map<ResourceKind, Set<string>>();
  for (const capability of scope.capabilities) {
    for (const grant of grants[capability as B2Capability] ?? []) {
      const actions = actionsOn.get(grant.on) ?? new Set<string>();
      for (const action of grant.actions) actions.add(action);
      actionsOn.set(grant.on, actions);
    }
  }
  const order: readonly ResourceKind[] = ["account", "bucket", "listing", "objects"];
  const statements: PolicyStatement[] = order.filter((kind) => actionsOn.has(kind)).map((kind) => ({
    Effect: "Allow",
    Action: [...actionsOn.get(kind)!].sort(),
    Resource: resources[kind],
    // A listing is allowed only of names under the prefix: a wider or empty prefix is refused.
    ...(kind === "listing" && scope.namePrefix !== "" && { Condition: { StringLike: { "s3:prefix": [`${scope.namePrefix}*`] } } }),
  }));
  // MinIO refuses a policy without statements: a key with only key-management capabilities gets
  // one that says in so many words that it may do nothing on S3.
  if (statements.length === 0) statements.push({ Effect: "Deny", Action: ["s3:*"], Resource: ["arn:aws:s3:::*"] });
  return { Version: "2012-10-17", Statement: statements };
}
