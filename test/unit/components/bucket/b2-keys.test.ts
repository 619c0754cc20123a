// The B2 key client speaks the native API v4 at the URL the stack gives it (B2 or the local cloud),
// with a key limited to one bucket (by id) and one name prefix.
import { describe, expect, it } from "vitest";
import { authorize, bucketId, createScopedKey, deleteKey, snapshotKeyCapabilities } from "../../../../components/bucket/b2-keys.ts";

interface Seen {
  readonly url: string;
  readonly method: string;
  readonly authorization: string | null;
  readonly body: any;
}

/** A fetch that records each request and answers from `replies` by the call's name. */
function fakeB2(replies: Record<string, { status?: number; json: unknown }>) {
  const seen: Seen[] = [];
  const fetcher = (async (url: string, init: RequestInit = {}) => {
    seen.push({ url, method: init.method ?? "GET", authorization: new Headers(init.headers).get("authorization"), body: init.body ? JSON.parse(String(init.body)) : undefined });
    const reply = replies[url.split("/").at(-1)!]!;
    return new Response(JSON.stringify(reply.json), { status: reply.status ?? 200 });
  }) as typeof fetch;
  return { seen, fetcher };
}

describe("B2 key client", () => {
  it("authorizes at the given URL and makes a key for one bucket id and prefix, over v4", async () => {
    const { seen, fetcher } = fakeB2({
      b2_authorize_account: { json: { accountId: "acc123", authorizationToken: "tok", apiInfo: { storageApi: { apiUrl: "http://api.local" } } } },
      b2_list_buckets: { json: { buckets: [{ bucketId: "bid1", bucketName: "snaps" }] } },
      b2_create_key: { json: { applicationKeyId: "kid", applicationKey: "Ksecret" } },
    });
    const session = await authorize({ authorizeUrl: "http://auth.local/", keyId: "master", applicationKey: "m-secret" }, fetcher);
    expect(session).toEqual({ apiUrl: "http://api.local", authorizationToken: "tok", accountId: "acc123" });
    const id = await bucketId(session, "snaps", fetcher);
    expect(await createScopedKey(session, "dumont-snaps", id, "snapshots/a/", fetcher)).toEqual({ keyId: "kid", applicationKey: "Ksecret" });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      "GET http://auth.local/b2api/v4/b2_authorize_account", "POST http://api.local/b2api/v4/b2_list_buckets", "POST http://api.local/b2api/v4/b2_create_key",
    ]);
    expect(seen[0]!.authorization).toBe(`Basic ${Buffer.from("master:m-secret").toString("base64")}`);
    expect(seen[2]).toMatchObject({
      authorization: "tok",
      body: { accountId: "acc123", keyName: "dumont-snaps", bucketIds: ["bid1"], namePrefix: "snapshots/a/", capabilities: [...snapshotKeyCapabilities] },
    });
  });

  it("takes a key already gone as deleted, and reports other failures with B2's code", async () => {
    const session = { apiUrl: "http://api.local", authorizationToken: "tok", accountId: "acc123" };
    const gone = fakeB2({ b2_delete_key: { status: 400, json: { status: 400, code: "bad_request", message: "applicationKeyId 'k' not found" } } });
    await expect(deleteKey(session, "k", gone.fetcher)).resolves.toBeUndefined();
    const refused = fakeB2({ b2_delete_key: { status: 401, json: { status: 401, code: "unauthorized", message: "no deleteKeys" } } });
    await expect(deleteKey(session, "k", refused.fetcher)).rejects.toThrow("B2 b2_delete_key: 401 unauthorized no deleteKeys");
  });
});
