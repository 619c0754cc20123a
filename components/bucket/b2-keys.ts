// Backblaze B2's native API, for the one thing its S3 API cannot do: an application key restricted
// to one bucket and one name prefix (b2_create_key). Used for real B2 only; the local cloud's MinIO
// has no such keys, and presigned URLs keep credentials off hosts in both.

export interface B2Session {
  readonly apiUrl: string;
  readonly authorizationToken: string;
  readonly accountId: string;
}

export interface ScopedKey {
  readonly keyId: string;
  readonly applicationKey: string;
}

/** What a snapshot client needs in its prefix, and no more (no key management, no other buckets). */
export const snapshotKeyCapabilities = ["listBuckets", "listAllBucketNames", "listFiles", "readFiles", "writeFiles", "deleteFiles"] as const;

type Fetch = typeof fetch;

async function b2Call<T>(fetcher: Fetch, url: string, init: RequestInit): Promise<T> {
  const response = await fetcher(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const body = (await response.json().catch(() => ({}))) as T & { code?: string; message?: string };
  if (!response.ok) throw new Error(`B2 ${url.split("/").at(-1)}: ${response.status} ${body.code ?? ""} ${body.message ?? ""}`.trim());
  return body;
}

export async function authorize(keyId: string, applicationKey: string, fetcher: Fetch = fetch): Promise<B2Session> {
  const basic = Buffer.from(`${keyId}:${applicationKey}`).toString("base64");
  const reply = await b2Call<{ apiInfo?: { storageApi?: { apiUrl?: string } }; apiUrl?: string; authorizationToken: string; accountId: string }>(
    fetcher, "https://api.backblazeb2.com/b2api/v3/b2_authorize_account", { headers: { authorization: `Basic ${basic}` } },
  );
  const apiUrl = reply.apiInfo?.storageApi?.apiUrl ?? reply.apiUrl;
  if (!apiUrl) throw new Error("B2 b2_authorize_account: no apiUrl in the reply");
  return { apiUrl, authorizationToken: reply.authorizationToken, accountId: reply.accountId };
}

export async function bucketId(session: B2Session, bucketName: string, fetcher: Fetch = fetch): Promise<string> {
  const reply = await b2Call<{ buckets: Array<{ bucketId: string; bucketName: string }> }>(fetcher, `${session.apiUrl}/b2api/v3/b2_list_buckets`, {
    method: "POST", headers: { authorization: session.authorizationToken }, body: JSON.stringify({ accountId: session.accountId, bucketName }),
  });
  const found = reply.buckets.find((b) => b.bucketName === bucketName);
  if (!found) throw new Error(`B2 bucket ${bucketName} not found in account ${session.accountId}`);
  return found.bucketId;
}

export async function createScopedKey(session: B2Session, keyName: string, bucket: string, namePrefix: string, fetcher: Fetch = fetch): Promise<ScopedKey> {
  const reply = await b2Call<{ applicationKeyId: string; applicationKey: string }>(fetcher, `${session.apiUrl}/b2api/v3/b2_create_key`, {
    method: "POST",
    headers: { authorization: session.authorizationToken },
    body: JSON.stringify({ accountId: session.accountId, capabilities: snapshotKeyCapabilities, keyName, bucketIds: [bucket], namePrefix }),
  });
  return { keyId: reply.applicationKeyId, applicationKey: reply.applicationKey };
}

export async function deleteKey(session: B2Session, applicationKeyId: string, fetcher: Fetch = fetch): Promise<void> {
  await b2Call(fetcher, `${session.apiUrl}/b2api/v3/b2_delete_key`, {
    method: "POST", headers: { authorization: session.authorizationToken }, body: JSON.stringify({ applicationKeyId }),
  }).catch((error: Error) => {
    // Deleting a key that is already gone is success.
    if (!/not_found|bad_request.*not.*found/i.test(error.message)) throw error;
  });
}
