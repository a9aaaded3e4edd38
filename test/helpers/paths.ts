import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CLI_BIN = fileURLToPath(new URL("../../bin/c8y-ms.js", import.meta.url));
export const CLI_ENTRY = fileURLToPath(new URL("../../dist/main.js", import.meta.url));
/** Real-world manifests with their sources (test/fixtures/corpus/README.md). */
export const CORPUS_DIR = fileURLToPath(new URL("../fixtures/corpus", import.meta.url));

/** Offline base images made by scripts/make-base-images.sh (nothing can be pulled here). */
export const NODE_BASE_IMAGE = "c8y-ms-base/node:local";
export const PYTHON_BASE_IMAGE = "c8y-ms-base/python:local";
