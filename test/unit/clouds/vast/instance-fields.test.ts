// Vast's answers checked before use: SSH hosts and ports that end up in connections and command
// lines, ids that end up in API paths. (Where SSH answers on an instance: client.test.ts.)
import { describe, expect, it } from "vitest";
import { DumontError } from "../../../../lib/errors.ts";
import { checkedHost, checkedId, checkedPort, isHostAddress, VastFieldError } from "../../../../clouds/vast/instance-fields.ts";

describe("host addresses", () => {
  it.each(["ssh4.vast.ai", "ssh4.vast.ai.", "localhost", "a-b.example.com", "10.77.0.12", "203.0.113.9", "2001:db8::1", "::1", "x".repeat(63) + ".ai"])("accepts %s", (host) => {
    expect(isHostAddress(host)).toBe(true);
  });

  it.each([
    "", " ", "-oProxyCommand=touch /tmp/x", "ssh4.vast.ai -p 22", "host\nname", "ssh4..vast.ai", "-leading.dash", "trailing-.ai",
    "a_b.ai", "root@host", "host:22", "[::1]", "999.1.1.1", "1.2.3", "x".repeat(64) + ".ai", `${"a.".repeat(127)}ab`, "\x1b]0;t\x07",
  ])("refuses %j", (host) => {
    expect(isHostAddress(host)).toBe(false);
  });

  it("trims the newline Vast ends public_ipaddr with", () => {
    expect(checkedHost("203.0.113.9\n", "public_ipaddr")).toBe("203.0.113.9");
  });

  it("names the field and shows the value sanitized", () => {
    const error = (() => {
      try {
        return checkedHost("-oProxyCommand=\x1b[2Jevil", "ssh_host");
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(VastFieldError);
    expect(error).toBeInstanceOf(DumontError);
    expect((error as Error).message).toBe('Vast returned ssh_host = "-oProxyCommand=evil", which is not a host name or IP address; refusing to use it');
    expect(() => checkedHost(42, "ssh_host")).toThrow("Vast returned ssh_host = 42");
  });
});

describe("ports and ids", () => {
  it.each([[22, 22], ["41022", 41022], [" 65535 ", 65535], [1, 1]])("port %j is %i", (value, port) => {
    expect(checkedPort(value, "ssh_port")).toBe(port);
  });

  it.each([0, 65536, -22, 22.5, "22 -o x", "0x16", "", "1e3", null, NaN, Infinity, "２２"])("refuses port %j", (value) => {
    expect(() => checkedPort(value, "ssh_port")).toThrow(VastFieldError);
  });

  it.each([1, 29012345, Number.MAX_SAFE_INTEGER])("id %i", (id) => {
    expect(checkedId(id, "instance id")).toBe(id);
  });

  it.each([0, -1, 1.5, "12", "../12", null, undefined, 2 ** 53])("refuses id %j", (id) => {
    expect(() => checkedId(id, "instance id")).toThrow(VastFieldError);
  });
});
