/**
 * The rule ids of the zip and image checks (the manifest's are in src/manifest/rules.ts).
 * Like those, they are a contract: `validate x.zip` prints them, the sandbox rejects uploads
 * by them, tests name them. Add ids; never rename or reuse one.
 */
export const UPLOAD_RULES = {
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
  "image-format": { severity: "error", summary: "image.tar is a docker-archive: manifest.json, config and layers as `docker save` writes them.", source: "platform.md §2" },
  "image-multiple": { severity: "error", summary: "image.tar holds exactly one image.", source: "platform.md §2" },
  "image-config-missing": { severity: "error", summary: "The Config that manifest.json names is in the archive.", source: "platform.md §2 [CL-DOCKER25]" },
  "image-config-name": { severity: "warning", summary: "The config file name ends in .json (Docker 25+ archives broke older platforms).", source: "platform.md §2 [CL-DOCKER25]" },
  "image-layer-missing": { severity: "error", summary: "Every layer that manifest.json names is in the archive.", source: "platform.md §2" },
  "image-layer-count": { severity: "error", summary: "The config's rootfs lists as many layers as manifest.json.", source: "Docker image spec v1.2" },
  "image-layer-compression": { severity: "error", summary: "Layers are plain or gzip tars (zstd needs Docker 23+).", source: "Docker image spec v1.2" },
  "image-digest": { severity: "error", summary: "Configs and layers match their digests.", source: "OCI image spec, Docker image spec v1.2" },
  "image-platform": { severity: "error", summary: "The image is built for linux/amd64.", source: "platform.md §2 (Architecture)" },
  "image-repo-tags": { severity: "warning", summary: "manifest.json names the image (RepoTags).", source: "platform.md §2" },
  "image-repo-tag-format": { severity: "error", summary: "Every RepoTags name is a reference docker can load (lowercase name, optional registry, a tag).", source: "distribution/reference grammar; docker load" },
  "image-port": { severity: "warning", summary: "The image exposes or uses port 80, where the platform sends requests.", source: "platform.md §4" },
} as const;

export type UploadRuleId = keyof typeof UPLOAD_RULES;
