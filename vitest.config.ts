// Test projects, told apart by folder (README "Tests" says how to run each):
//   unit         pure functions and Pulumi mocks; no processes, no network
//   integration  the real engine, the local cloud and real SSH/S3 servers on this machine
//   first-hour   the README's commands in order on a fresh clone (its own command: slow)
//   real         the paid suite against Vast.ai/GCP/B2; skips itself without credentials
import { defineConfig } from "vitest/config";

// Product code loads through Node.js itself (which strips TypeScript types), not Vite's module
// runner: Pulumi serializes dynamic providers from their source text, and Vite's rewrite of
// `import()` into a helper that captures `this` cannot be serialized.
const nativeProductCode = { deps: { external: [/\/(lib|dataplane|clouds|contract|components|stacks|harness|local-cloud)\//] } };

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 20_000, server: nativeProductCode },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          setupFiles: ["test/support/tool-environment.ts"],
          server: nativeProductCode,
          // Tests share this machine's namespaces, ports and the local cloud: one file at a time.
          fileParallelism: false,
          testTimeout: 10 * 60_000,
          hookTimeout: 10 * 60_000,
        },
      },
      {
        test: {
          // The README's commands in order on a fresh clone (5 minutes): `npm run test:first-hour`.
          name: "first-hour",
          include: ["test/first-hour/**/*.test.ts"],
          setupFiles: ["test/support/tool-environment.ts"],
          server: nativeProductCode,
          fileParallelism: false,
          testTimeout: 30 * 60_000,
          hookTimeout: 10 * 60_000,
        },
      },
      {
        test: {
          name: "real",
          include: ["test/real/**/*.test.ts"],
          setupFiles: ["test/support/tool-environment.ts"],
          server: nativeProductCode,
          fileParallelism: false,
          testTimeout: 60 * 60_000,
          hookTimeout: 30 * 60_000,
        },
      },
    ],
  },
});
