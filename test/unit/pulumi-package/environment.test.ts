// The names a component-declared environment gets: its GPUs' labels never match a stack of Dumont's
// own project or another environment of the program, and names that would clash (in lowercase) or
// make an invalid GCP network tag are refused before anything is rented.
import { describe, expect, it } from "vitest";
import { claimEnvironmentName, componentStackName } from "../../../pulumi-package/environment.ts";
import { isStackLabel, slotLabel } from "../../../components/vast/labels.ts";

describe("a component environment's name", () => {
  it("labels its GPUs apart from another environment of the program and from a stack of Dumont's own project", () => {
    const name = componentStackName("dumont-yaml-example", "dev", "env");
    const label = `${slotLabel(name, "a")}.ab12`;
    expect(isStackLabel(name, label)).toBe(true);
    expect(isStackLabel(componentStackName("dumont-yaml-example", "dev", "env2"), label)).toBe(false);
    expect(isStackLabel("dev", label)).toBe(false);
  });

  it("refuses names that cannot label a GPU or tag a GCP standby", () => {
    expect(() => componentStackName("p", "dev", "my env")).toThrow(/'my env'.*only letters/);
    expect(() => componentStackName("p", "dev", "x".repeat(60))).toThrow(/network tag/);
    expect(() => componentStackName("p", "dev", "env_")).toThrow(/network tag/);
  });

  it("refuses a second environment of the stack whose name differs only in case or separators", () => {
    claimEnvironmentName("p.dev.gpu_1", false);
    expect(() => claimEnvironmentName("p.dev.GPU-1", false)).toThrow(/both named 'p.dev.GPU-1'/);
    // A preview and the update that follows it may run in one provider process.
    expect(() => claimEnvironmentName("p.dev.gpu_1", true)).not.toThrow();
  });
});
