// The S3 client Dumont uses for Backblaze B2 and, in the local cloud, MinIO: one endpoint setting,
// path-style addressing, and checksums only where the API requires them (B2 rejects the SDK's
// default CRC32 trailers).
import { S3Client } from "@aws-sdk/client-s3";

export interface ObjectStoreSettings {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Attempts per request, with the SDK's backoff on 5xx, SlowDown and throttling. */
  readonly maxAttempts?: number;
}

export function objectStoreClient(settings: ObjectStoreSettings): S3Client {
  return new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: settings.maxAttempts ?? 5,
    // A stalled store must end a request, not hang the controller: connect in 10 s, answer in 60 s.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
  });
}
