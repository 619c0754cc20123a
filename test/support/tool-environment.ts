// Integration tests run Pulumi and the local cloud's tools exactly as `dumont` does.
import { applyToolEnvironment } from "../../lib/tools/environment.ts";

applyToolEnvironment();
