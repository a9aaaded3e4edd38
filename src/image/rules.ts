/**
 * The rule ids of the image archive checks (the zip's are in src/bundle/rules.ts, the
 * manifest's in src/manifest/rules.ts). Like those, they are a contract: `validate x.zip`
 * prints them, the sandbox rejects uploads by them, tests name them. Add ids; never rename or
 * reuse one.
 */
export const IMAGE_RULES = {
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

export type ImageRuleId = keyof typeof IMAGE_RULES;
