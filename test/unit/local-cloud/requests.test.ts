// Client input checked the way Vast checks it, with Vast's error codes and wording.
import { describe, expect, it } from "vitest";
import { parseLabel, parsePublicKey, parseRentRequest } from "../../../local-cloud/requests.ts";
import { VastError } from "../../../local-cloud/vast/error.ts";

function refusal(f: () => unknown): { status: number; body: Record<string, unknown> } {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(VastError);
    return { status: (error as VastError).status, body: (error as VastError).body };
  }
  throw new Error("expected a refusal");
}

const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEIQczXkVx9q me@laptop";

describe("a rent request", () => {
  it("gets Vast's defaults: 10 GB, runtype ssh, no label, env only from an object, on demand", () => {
    expect(parseRentRequest({ image: "pytorch/pytorch:2.4.0", env: "-e A=1 -p 22:22" })).toEqual({
      image: "pytorch/pytorch:2.4.0", diskGb: 10, label: "", env: {}, onstart: "", runtype: "ssh", bid: undefined,
    });
    expect(parseRentRequest({
      image: "x:1", disk: "16", label: 7, env: { A: 1, B: "two" }, onstart: "echo hi", runtype: "ssh_direc ssh_proxy", price: "0.25",
    })).toEqual({ image: "x:1", diskGb: 16, label: "7", env: { A: "1", B: "two" }, onstart: "echo hi", runtype: "ssh_direc ssh_proxy", bid: 0.25 });
    expect(parseRentRequest({ image: "x:1", label: null, price: null, env: ["A=1"] })).toMatchObject({ label: "", env: {}, bid: undefined });
  });

  it("refuses what Vast refuses, in its words", () => {
    expect(refusal(() => parseRentRequest({ disk: 10 }))).toEqual({ status: 400, body: { success: false, error: "invalid_args", msg: "image is required" } });
    expect(refusal(() => parseRentRequest({ image: "  " })).body.msg).toBe("image is required");
    expect(refusal(() => parseRentRequest({ image: "x:1", disk: 2 })).body.msg).toBe("disk must be a number of GB, at least 8");
    expect(refusal(() => parseRentRequest({ image: "x:1", disk: "lots" })).body.msg).toBe("disk must be a number of GB, at least 8");
    expect(refusal(() => parseRentRequest({ image: "x:1", label: "l".repeat(257) })).body.msg).toBe("label must be at most 256 characters");
    expect(refusal(() => parseRentRequest({ image: "x:1", env: { BIG: "v".repeat(257) } })).body.msg).toBe("env BIG: values are limited to 256 characters");
    expect(refusal(() => parseRentRequest({ image: "x:1", onstart: "a".repeat(4000), args: ["b".repeat(50), "c".repeat(50)] })).body.msg)
      .toBe("args, args_str and onstart together are limited to 4096 characters");
    for (const price of [0, 0.0005, 129, "cheap"]) {
      expect(refusal(() => parseRentRequest({ image: "x:1", price }))).toEqual({
        status: 400, body: { success: false, error: "invalid_price", msg: "price must be between 0.001 and 128 $/h" },
      });
    }
  });

  it("allows the limits themselves", () => {
    expect(parseRentRequest({ image: "x:1", disk: 8, label: "l".repeat(256), onstart: "a".repeat(4096), price: 128 })).toMatchObject({ diskGb: 8, bid: 128 });
  });
});

describe("an SSH public key", () => {
  it("accepts OpenSSH key lines, trimmed", () => {
    expect(parsePublicKey(`  ${key}\n`)).toBe(key);
    expect(parsePublicKey("ssh-rsa AAAAB3NzaC1yc2E=")).toBe("ssh-rsa AAAAB3NzaC1yc2E=");
    expect(parsePublicKey("ecdsa-sha2-nistp256 AAAAE2VjZHNh")).toBe("ecdsa-sha2-nistp256 AAAAE2VjZHNh");
  });

  it("refuses anything else", () => {
    for (const bad of ["", "AAAAC3NzaC1lZDI1NTE5", "ssh-dss AAAAB3NzaC1kc3M=", "-----BEGIN OPENSSH PRIVATE KEY-----", 42 as unknown as string]) {
      expect(refusal(() => parsePublicKey(bad))).toEqual({
        status: 400, body: { success: false, error: "invalid_args", msg: "ssh_key must be an OpenSSH public key line" },
      });
    }
  });
});

describe("a new label", () => {
  it("may be up to 1024 characters", () => {
    expect(parseLabel("l".repeat(1024))).toHaveLength(1024);
    expect(refusal(() => parseLabel("l".repeat(1025)))).toEqual({
      status: 400, body: { success: false, error: "label_too_long", msg: "Please limit label length to 1024 characters, ideally less than 128." },
    });
  });
});
