// Vast's error envelope: an answer Vast would give instead of success. Anything the cloud refuses
// throws one; vast/api.ts sends its status and body as they are.

/** An answer Vast would give instead of success: status code and body. */
export class VastError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  constructor(status: number, error: string, msg: string, extra: Record<string, unknown> = {}) {
    super(msg);
    this.status = status;
    this.body = { success: false, error, msg, ...extra };
  }
}
