// The local cloud's S3 fault proxy spaces its failures evenly: a rate fails exactly that share of requests.
import { describe, expect, it } from "vitest";
import { failsAt } from "../../../local-cloud/s3-fault-proxy.ts";

describe("S3 fault spacing", () => {
  it("fails exactly a fifth of any run of requests at rate 0.2", () => {
    const fails = Array.from({ length: 100 }, (_, n) => failsAt(n, 0.2)).filter(Boolean).length;
    expect(fails).toBe(20);
    expect(failsAt(0, 1)).toBe(true);
  });
});
