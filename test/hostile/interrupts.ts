/**
 * The interrupt scenarios of the suite (issue 18): each runs once with SIGINT (exit 130) and
 * once with SIGTERM (exit 143), in test/interrupts.test.ts and, where a real engine is the
 * point, test/interrupts.docker.test.ts. The README's figures count them from here.
 */
export const SIGNALS = [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const;

export const INTERRUPT_SCENARIOS = {
  validate: "validate of a 3 GiB zip (CPU- and disk-bound checking)",
  zip: "pack while it zips",
  upload: "deploy while the upload is in flight",
  wait: "deploy --wait while it waits",
  build: "build while the engine runs a RUN step",
  save: "pack while the engine saves the image",
} as const;

export type InterruptScenario = keyof typeof INTERRUPT_SCENARIOS;
