// Vast enforces a minimum interval between calls per identity, endpoint and method, and answers
// 429 without a Retry-After header. The thresholds are the published ones (seconds).

export const publishedThresholds: Readonly<Record<string, number>> = {
  "POST search": 6,
  "PUT rent": 4.5,
  "GET show": 2,
  "GET list": 1,
  "PUT manage": 1,
  "DELETE destroy": 3,
  "PUT reboot": 1,
  "POST ssh": 1,
  "PUT ssh": 1,
  "DELETE instance-ssh": 2,
  "GET charges": 1,
};

export class RateLimiter {
  private readonly last = new Map<string, number>();

  /** True when the call is allowed; records it. */
  allow(identity: string, endpoint: string, now = Date.now()): boolean {
    const threshold = publishedThresholds[endpoint];
    if (threshold === undefined) return true;
    const key = `${identity} ${endpoint}`;
    const previous = this.last.get(key);
    if (previous !== undefined && now - previous < threshold * 1000) return false;
    this.last.set(key, now);
    return true;
  }
}

/** Vast's 429 bodies vary: plain text on some endpoints, {"detail": …} on others. */
export function tooManyRequestsBody(endpoint: string, attempt: number): { contentType: string; body: string } {
  const threshold = publishedThresholds[endpoint] ?? 1;
  return attempt % 2 === 0
    ? { contentType: "application/json", body: JSON.stringify({ detail: `API requests too frequent endpoint threshold=${threshold}` }) }
    : { contentType: "text/plain", body: "API requests too frequent" };
}
