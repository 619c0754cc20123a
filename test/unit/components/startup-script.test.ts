import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { standbyStartupScript } from "../../../components/standby/startup-script.ts";
import { spotScheduling } from "../../../components/standby/gcp-standby.ts";

const options = {
  user: "dumont",
  hostPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA'quote'\n-----END OPENSSH PRIVATE KEY-----\n",
  hostPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIStandbyHostKey dumont-standby",
};

describe("the GCP standby's startup script", () => {
  it("renders the same script for the same inputs", () => {
    expect(standbyStartupScript(options)).toMatchSnapshot();
  });

  it("is valid bash and writes the pinned host key byte for byte, quotes included", () => {
    const script = standbyStartupScript(options);
    execFileSync("bash", ["-n", "-c", script]);
    const command = /^printf .*? > \/etc\/ssh\/ssh_host_ed25519_key$/ms.exec(script)![0];
    const printed = execFileSync("bash", ["-c", command.replace(" > /etc/ssh/ssh_host_ed25519_key", "")], { encoding: "utf8" });
    expect(printed).toBe(options.hostPrivateKey);
  });

  it("refuses a user name that would break the script", () => {
    expect(() => standbyStartupScript({ ...options, user: "x; rm -rf /" })).toThrow(/not a valid login name/);
  });
});

describe("spot scheduling", () => {
  it("follows GCP's rule for SPOT: preemptible, no automatic restart, a termination action", () => {
    expect(spotScheduling(true)).toEqual({ provisioningModel: "SPOT", preemptible: true, automaticRestart: false, onHostMaintenance: "TERMINATE", instanceTerminationAction: "STOP" });
    expect(spotScheduling(false).provisioningModel).toBe("STANDARD");
  });
});
