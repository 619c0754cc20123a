// Backblaze B2's native API (v4), for the one thing its S3 API cannot do: an application key
// restricted to one bucket and one name prefix (b2_create_key). Where the API is and which key
// manages keys come from the stack (clouds/cloud-access.ts: b2KeyAccess): real B2, or the local
// cloud's emulation of these calls, whose keys MinIO enforces. Presigned URLs keep credentials off
// hosts either way.
import type { B2KeyAccess } from "../../clouds/cloud-access.ts";
import { EnvironmentError } from "../../lib/errors.ts";

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

/**
 * v4: its b2_create_key takes `bucketIds` (v3 took a single `bucketId`), and B2 answers earlier
 * versions' calls that involve keys made with `bucketIds` with an error.
 */
const apiVersion = "v4";

type Fetch = typeof fetch;

async function b2Call<T>(fetcher: Fetch, url: string, init: RequestInit): Promise<T> {
  const response = await fetcher(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const body = (await response.json().catch(() => ({}))) as T & { code?: string; message?: string };
  if (!response.ok) throw new EnvironmentError(`B2 ${url.split("/").at(-1)}: ${response.status} ${body.code ?? ""} ${body.message ?? ""}`.trim(), "check the stack's B2 key (dumont:bucketKeyId / dumont:bucketApplicationKey) and what it may do");
  return body;
}

export async function authorize(access: B2KeyAccess, fetcher: Fetch = fetch): Promise<B2Session> {
  const basic = Buffer.from(`${access.keyId}:${access.applicationKey}`).toString("base64");
  const reply = await b2Call<{ apiInfo?: { storageApi?: { apiUrl?: string } }; authorizationToken: string; accountId: string }>(
    fetcher, `${access.authorizeUrl.replace(/\/+$/, "")}/b2api/${apiVersion}/b2_authorize_account`, { headers: { authorization: `Basic ${basic}` } },
  );
  const apiUrl = reply.apiInfo?.storageApi?.apiUrl;
  if (!apiUrl) throw new EnvironmentError("B2 b2_authorize_account: no apiInfo.storageApi.apiUrl in the reply");
  return { apiUrl, authorizationToken: reply.authorizationToken, accountId: reply.accountId };
}

export async function bucketId(session: B2Session, bucketName: string, fetcher: Fetch = fetch): Promise<string> {
  const reply = await b2Call<{ buckets: Array<{ bucketId: string; bucketName: string }> }>(fetcher, `${session.apiUrl}/b2api/${apiVersion}/b2_list_buckets`, {
    method: "POST", headers: { authorization: session.authorizationToken }, body: JSON.stringify({ accountId: session.accountId, bucketName }),
  });
  const found = reply.buckets.find((b) => b.bucketName === bucketName);
  if (!found) throw new EnvironmentError(`B2 bucket ${bucketName} not found in account ${session.accountId}`);
  return found.bucketId;
}

export async function createScopedKey(session: B2Session, keyName: string, bucketIdToAllow: string, namePrefix: string, fetcher: Fetch = fetch): Promise<ScopedKey> {
  const reply = await b2Call<{ applicationKeyId: string; applicationKey: string }>(fetcher, `${session.apiUrl}/b2api/${apiVersion}/b2_create_key`, {
    method: "POST",
    headers: { authorization: session.authorizationToken },
    body: JSON.stringify({ accountId: session.accountId, capabilities: snapshotKeyCapabilities, keyName, bucketIds: [bucketIdToAllow], namePrefix }),
  });
  return { keyId: reply.applicationKeyId, applicationKey: reply.applicationKey };
}

export async function deleteKey(session: B2Session, applicationKeyId: string, fetcher: Fetch = fetch): Promise<void> {
  await b2Call(fetcher, `${session.apiUrl}/b2api/${apiVersion}/b2_delete_key`, {
    method: "POST", headers: { authorization: session.authorizationToken }, body: JSON.stringify({ applicationKeyId }),
  }).catch((error: Error) => {
    // Deleting a key that is already gone is success.
    if (!/not_found|bad_request.*not.*found/i.test(error.message)) throw error;
  });
}
