import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { hostKeyGuestAttribute, standbyStartupScript } from "../../../../components/standby/startup-script.ts";

const options = { user: "dumont" };

describe("the GCP standby's startup script", () => {
  it("renders the same script for the same inputs", () => {
    expect(standbyStartupScript(options)).toMatchSnapshot();
  });

  it("is valid bash and holds no key: every process on the VM can read its metadata", () => {
    const script = standbyStartupScript(options);
    execFileSync("bash", ["-n", "-c", script]);
    expect(script).not.toMatch(/PRIVATE KEY|BEGIN OPENSSH/);
  });

  it("makes the host key on the VM at the first boot of this instance, and offers only that key", () => {
    const script = standbyStartupScript(options);
    expect(script).toMatch(/if \[ "\$\(cat \/var\/lib\/dumont-host-key-instance.*\)" != "\$instance" \]/);
    expect(script).toContain("ssh-keygen -q -t ed25519 -N \"\" -C dumont-standby -f /etc/ssh/ssh_host_ed25519_key");
    expect(script).toContain("HostKey /etc/ssh/ssh_host_ed25519_key");
  });

  it("publishes the public key as the guest attribute the program reads, last, once sshd presents it", () => {
    const script = standbyStartupScript(options);
    const { namespace, key } = hostKeyGuestAttribute;
    const lines = script.trimEnd().split("\n");
    expect(lines.at(-1)).toBe(
      `metadata -X PUT --data "$(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)" http://metadata.google.internal/computeMetadata/v1/instance/guest-attributes/${namespace}/${key}`,
    );
    expect(script).toContain("-H Metadata-Flavor:Google");
    expect(lines.indexOf("systemctl restart ssh")).toBeLessThan(lines.length - 1);
  });

  it("refuses a user name that would break the script", () => {
    expect(() => standbyStartupScript({ ...options, user: "x; rm -rf /" })).toThrow(/not a valid login name/);
  });
});
