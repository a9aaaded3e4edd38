import { defineConfig } from "vitest/config";

/** Stress tests (test/stress/) have their own config, vitest.stress.config.ts: `npm run test:stress`. */
export default defineConfig({
  test: {
    // Counts what the suite ran (README.md, "Reliability"): reset at the start, added up at the end.
    globalSetup: ["test/helpers/figures-global.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts"],
          setupFiles: ["test/helpers/figures-setup.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: ["test/stress/**"],
          globalSetup: ["test/helpers/global-setup.ts"],
          setupFiles: ["test/helpers/figures-setup.ts"],
          // These spawn the built CLI, container engines and servers: give them room.
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
