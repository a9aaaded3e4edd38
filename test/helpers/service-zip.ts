import { execa } from "execa";
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { create } from "tar";

export interface ServiceZipOptions {
  /** Different variants make different images (another config digest), the same variant the identical one. */
  variant?: string;
  /** Leave these entries out of the zip, e.g. ["image.tar"]. */
  omit?: string[];
}

/**
 * A platform zip without a container engine (platform.md §2): `cumulocity.json` (an object,
 * or raw text for broken manifests) and a small but complete docker-archive `image.tar`
 * (manifest.json, config with linux/amd64, one layer), zipped with the zip CLI. The image
 * does not run; it is for upload checks against a sandbox started with --no-containers.
 */
export async function makeServiceZip(dir: string, manifest: Record<string, unknown> | string, options: ServiceZipOptions = {}): Promise<string> {
  const variant = options.variant ?? "a";
  await mkdir(dir, { recursive: true });
  const text = typeof manifest === "string" ? manifest : JSON.stringify(manifest, null, 2);
  await writeFile(join(dir, "cumulocity.json"), text);
  await writeFile(join(dir, "image.tar"), await imageTar(join(dir, "image"), variant));
  const zip = join(dir, "service.zip");
  const entries = ["cumulocity.json", "image.tar"].filter((e) => !options.omit?.includes(e));
  await execa("zip", ["-q", "-j", zip, ...entries.map((e) => join(dir, e))]);
  return zip;
}

async function imageTar(dir: string, variant: string): Promise<Buffer> {
  const tarOptions = { portable: true, mtime: new Date("2024-01-01T00:00:00Z") };
  const layerSource = join(dir, "layer-source");
  await mkdir(layerSource, { recursive: true });
  await writeFile(join(layerSource, "hello.txt"), `variant ${variant}\n`);
  const layerFile = join(dir, "layer.tar");
  await create({ ...tarOptions, file: layerFile, cwd: layerSource }, ["hello.txt"]);
  const layer = await readFile(layerFile);
  const diffId = sha256(layer);

  const config = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: { Cmd: ["node", "server.js"], ExposedPorts: { "80/tcp": {} }, Labels: { variant } },
    rootfs: { type: "layers", diff_ids: [`sha256:${diffId}`] },
    history: [{ created: "2024-01-01T00:00:00Z", created_by: "c8y-ms test" }],
  });
  const configName = `${sha256(Buffer.from(config))}.json`;
  const archive = join(dir, "archive");
  await mkdir(join(archive, diffId), { recursive: true });
  await writeFile(join(archive, diffId, "layer.tar"), layer);
  await writeFile(join(archive, diffId, "VERSION"), "1.0");
  await writeFile(join(archive, diffId, "json"), JSON.stringify({ id: diffId }));
  await writeFile(join(archive, configName), config);
  await writeFile(join(archive, "manifest.json"), JSON.stringify([{ Config: configName, RepoTags: [`sample/service:${variant}`], Layers: [`${diffId}/layer.tar`] }]));
  await writeFile(join(archive, "repositories"), JSON.stringify({ "sample/service": { [variant]: diffId } }));
  const file = join(dir, "image.tar");
  await create({ ...tarOptions, file, cwd: archive }, [configName, diffId, "manifest.json", "repositories"]);
  return readFile(file);
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
