/** A manifest that passes `validate --strict` (platform.md §1): tests change one field at a time. */
export const VALID_MANIFEST = {
  apiVersion: "2",
  name: "my-service",
  version: "1.0.0",
  provider: { name: "Example Ltd." },
  replicas: 2,
  livenessProbe: { httpGet: { path: "/health", port: 80 } },
} as const;

/** `validate --json` (spec/cli.md, JSON results). */
export type { ValidateResult as ValidateJson } from "../../src/commands/validate.js";
