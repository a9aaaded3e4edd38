import type { ImageRuleId } from "./rules.js";

/**
 * What a format reader finds for one image: where its config and layers are in the archive
 * and what names it. The policy (image-layout.ts) resolves and judges it.
 */
export interface ImageReference {
  source: "docker-archive" | "oci-layout";
  repoTags: string[];
  /** The config's path in the archive. */
  configName: string;
  configDigest: string | undefined;
  layers: { name: string; digest: string | undefined; mediaType: string | undefined; size: number | undefined }[];
}

/** How a reader says that the archive is not what its format requires. */
export type ReaderReport = (rule: ImageRuleId, message: string) => void;
