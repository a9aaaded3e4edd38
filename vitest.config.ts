import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/helpers/global-setup.ts"],
          // These spawn the built CLI, container engines and servers: give them room.
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
