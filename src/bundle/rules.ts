/**
 * The rule ids of the zip checks (the image archive's are in src/image/rules.ts, the
 * manifest's in src/manifest/rules.ts). Like those, they are a contract: `validate x.zip`
 * prints them, the sandbox rejects uploads by them, tests name them. Add ids; never rename or
 * reuse one.
 */
export const BUNDLE_RULES = {
  "zip-format": { severity: "error", summary: "The upload is a readable zip (stored or deflated entries, no encryption).", source: "platform.md §2" },
  "zip-corrupt": { severity: "error", summary: "Every entry inflates to its recorded size and CRC-32.", source: "APPNOTE 6.3" },
  "zip-entries": { severity: "error", summary: "cumulocity.json and image.tar are at the zip's root.", source: "platform.md §2" },
  "zip-extra-entry": { severity: "error", summary: "The zip holds nothing but cumulocity.json and image.tar.", source: "platform.md §2" },
  "zip-duplicate-entry": { severity: "error", summary: "No name appears twice in the zip.", source: "platform.md §2" },
  "zip-size": { severity: "error", summary: "The zip is at most 500 MB.", source: "platform.md §2 [DOC-QUOTAS]" },
  "image-size": { severity: "warning", summary: "The image itself is at most 500 MB, as the platform's image size quota says.", source: "platform.md §2 [DOC-QUOTAS]" },
} as const;

export type BundleRuleId = keyof typeof BUNDLE_RULES;
