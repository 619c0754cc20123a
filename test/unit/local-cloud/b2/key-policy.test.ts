// The MinIO policy a local-cloud B2 key becomes: exactly its buckets and name prefix, and a refusal
// for what the local cloud cannot enforce as B2 would.
import { describe, expect, it } from "vitest";
import { checkKeyScope, emulatedCapabilities, KeyScopeError, minioPolicyOf } from "../../../../local-cloud/b2/key-policy.ts";
import { snapshotKeyCapabilities } from "../../../../components/bucket/b2-keys.ts";

const snapshotKey = { capabilities: [...snapshotKeyCapabilities], bucketNames: ["dumont-snaps"], namePrefix: "snapshots/alpha/" };

describe("B2 key policy", () => {
  it("gives the snapshot key listing only under its prefix and objects only under it", () => {
    expect(minioPolicyOf(snapshotKey)).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: ["s3:ListAllMyBuckets"], Resource: ["arn:aws:s3:::*"] },
        { Effect: "Allow", Action: ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], Resource: ["arn:aws:s3:::dumont-snaps"] },
        {
          Effect: "Allow", Action: ["s3:ListBucket", "s3:ListBucketVersions"], Resource: ["arn:aws:s3:::dumont-snaps"],
          Condition: { StringLike: { "s3:prefix": ["snapshots/alpha/*"] } },
        },
        {
          Effect: "Allow",
          Action: ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:GetObjectVersion", "s3:ListMultipartUploadParts", "s3:PutObject"],
          Resource: ["arn:aws:s3:::dumont-snaps/snapshots/alpha/*"],
        },
      ],
    });
  });

  it("grants only what the capabilities say: a read-only key cannot write or delete", () => {
    const policy = minioPolicyOf({ capabilities: ["listFiles", "readFiles"], bucketNames: ["b1", "b2x"], namePrefix: "p/" });
    const actions = policy.Statement.flatMap((s) => s.Action);
    expect(actions).toContain("s3:GetObject");
    expect(actions.filter((a) => /Put|Delete|Abort/.test(a))).toEqual([]);
    expect(policy.Statement.find((s) => s.Action.includes("s3:GetObject"))!.Resource).toEqual(["arn:aws:s3:::b1/p/*", "arn:aws:s3:::b2x/p/*"]);
  });

  it("leaves listing unconditioned without a prefix, and covers every bucket without a bucket limit", () => {
    const whole = minioPolicyOf({ capabilities: ["listFiles", "readFiles"], bucketNames: ["b1"], namePrefix: "" });
    expect(whole.Statement.every((s) => s.Condition === undefined)).toBe(true);
    expect(whole.Statement.find((s) => s.Action.includes("s3:GetObject"))!.Resource).toEqual(["arn:aws:s3:::b1/*"]);
    const everywhere = minioPolicyOf({ capabilities: ["readFiles"], bucketNames: [], namePrefix: "shared/" });
    expect(everywhere.Statement).toEqual([{ Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: ["arn:aws:s3:::*/shared/*"] }]);
  });

  it("lets a key-management key do nothing at all on S3", () => {
    expect(minioPolicyOf({ capabilities: ["listKeys", "writeKeys", "deleteKeys"], bucketNames: [], namePrefix: "" }).Statement)
      .toEqual([{ Effect: "Deny", Action: ["s3:*"], Resource: ["arn:aws:s3:::*"] }]);
  });

  it("refuses what B2 refuses and what MinIO cannot enforce literally", () => {
    const refusal = (scope: Parameters<typeof checkKeyScope>[0]) => {
      try {
        checkKeyScope(scope);
      } catch (error) {
        if (error instanceof KeyScopeError) return error.message;
        throw error;
      }
      return undefined;
    };
    expect(refusal({ capabilities: [], bucketNames: [], namePrefix: "" })).toMatch(/at least one/);
    expect(refusal({ capabilities: ["readEverything"], bucketNames: [], namePrefix: "" })).toMatch(/not a B2 capability/);
    expect(refusal({ capabilities: ["writeKeys"], bucketNames: ["b1"], namePrefix: "" })).toMatch(/limited to buckets cannot have 'writeKeys'/);
    expect(refusal({ capabilities: ["shareFiles"], bucketNames: ["b1"], namePrefix: "" })).toMatch(/does not emulate 'shareFiles'/);
    for (const prefix of ["a*/", "a?/", "${aws:username}/"]) {
      expect(refusal({ capabilities: ["readFiles"], bucketNames: ["b1"], namePrefix: prefix })).toMatch(/cannot limit a key to a prefix/);
    }
    expect(refusal(snapshotKey)).toBeUndefined();
    expect(emulatedCapabilities).toEqual(expect.arrayContaining([...snapshotKeyCapabilities]));
  });
});
