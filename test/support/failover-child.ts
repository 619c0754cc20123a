// A controller that dies: runs `dumont failover` for a stack and SIGKILLs itself right after the
// named step, as a crash there would. Used by the failover tests.
//   node test/support/failover-child.ts STACK STEP
import { failover } from "../../stacks/failover/apply.ts";
import { applyToolEnvironment } from "../../lib/tools/environment.ts";

const [stack, killAfter] = process.argv.slice(2);
applyToolEnvironment();
await failover({
  stack: stack!,
  onProgress: (line) => console.log(line),
  afterStep: (step) => {
    if (step.kind === killAfter) process.kill(process.pid, "SIGKILL");
  },
});
