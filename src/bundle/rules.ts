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
  "zip-entry-name": { severity: "error", summary: "No entry name climbs out of the folder the zip unpacks into (zip slip: absolute paths, `..`, backslashes, drive letters).", source: "APPNOTE 6.3 §4.4.17 (relative paths, forward slashes)" },
  "zip-entry-type": { severity: "error", summary: "cumulocity.json and image.tar are files, not symbolic links or directories.", source: "platform.md §2" },
  "zip-bomb": { severity: "error", summary: "image.tar inflates to at most 10 times the upload limit (no deployable image is bigger).", source: "platform.md §2 [DOC-QUOTAS] (image size quota 500 MB)" },
  "zip-duplicate-entry": { severity: "error", summary: "No name appears twice in the zip.", source: "platform.md §2" },
  "zip-size": { severity: "error", summary: "The zip is at most 500 MB.", source: "platform.md §2 [DOC-QUOTAS]" },
  "image-size": { severity: "warning", summary: "The image itself is at most 500 MB, as the platform's image size quota says.", source: "platform.md §2 [DOC-QUOTAS]" },
} as const;

export type BundleRuleId = keyof typeof BUNDLE_RULES;
