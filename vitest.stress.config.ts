import { defineConfig } from "vitest/config";

/** What is too slow or too big for every run (a zip over 4 GiB): `npm run test:stress`, which CI runs. */
export default defineConfig({
  test: {
    name: "stress",
    include: ["test/stress/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 600_000,
    hookTimeout: 180_000,
  },
});
