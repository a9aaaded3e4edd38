import { execa } from "execa";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { NODE_BASE_IMAGE, REPO_ROOT } from "./paths.js";

/** The echo test service (test/fixtures/services/echo): what a deployed service sees. */
export const ECHO_DIR = join(REPO_ROOT, "test/fixtures/services/echo");

export interface EchoBuild {
  /** The image tag; remove it with removeImages() in afterAll. */
  image: string;
}

/**
 * Builds the echo image once per test file, labelled `c8y-ms-test`. Extra build labels make
 * a different image from the same files (the version rules compare images).
 */
export async function buildEcho(tag: string, labels: Record<string, string> = {}): Promise<EchoBuild> {
  const args = ["build", "--network", "host", "--build-arg", `BASE_IMAGE=${NODE_BASE_IMAGE}`, "--label", "c8y-ms-test=1", "-t", tag];
  for (const [key, value] of Object.entries(labels)) args.push("--label", `${key}=${value}`);
  await execa("docker", [...args, ECHO_DIR]);
  return { image: tag };
}

/**
 * A platform zip of the echo service: `cumulocity.json` (the fixture's, with `manifest`
 * merged over it) and `image.tar` from `docker save`, zipped with the zip CLI like the
 * platform's own tutorial does (platform.md §2).
 */
export async function zipEcho(image: string, dir: string, manifest: Record<string, unknown>): Promise<string> {
  await mkdir(dir, { recursive: true });
  const base = JSON.parse(await readFile(join(ECHO_DIR, "cumulocity.json"), "utf8")) as Record<string, unknown>;
  await writeFile(join(dir, "cumulocity.json"), JSON.stringify({ ...base, ...manifest }, null, 2));
  const tar = join(dir, "image.tar");
  await execa("docker", ["save", "-o", tar, image]);
  const zip = join(dir, `${String(manifest.name ?? base.name)}.zip`);
  await execa("zip", ["-q", "-j", zip, join(dir, "cumulocity.json"), tar]);
  return zip;
}

export async function removeImages(...tags: string[]): Promise<void> {
  if (tags.length > 0) await execa("docker", ["rmi", "-f", ...tags], { reject: false });
}
