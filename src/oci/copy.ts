import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Stats } from "node:fs";
import { DockerfileError } from "./dockerfile.js";
import { LayerTree, type Owner } from "./layer.js";
import { hasWildcard, segmentPattern, type IgnoreMatcher } from "./patterns.js";
import type { CopyStep } from "./stage.js";

/**
 * COPY as Docker does it (docs.docker.com/reference/dockerfile/#copy): sources relative to the
 * build context with Go wildcards, a directory's contents (not the directory itself), a file
 * into a directory when the destination ends with `/`, several sources only into a directory,
 * symbolic links kept inside copied directories, files left out by .dockerignore, mode bits
 * kept unless --chmod, owner root unless --chown.
 */
export interface CopyContext {
  contextDir: string;
  ignore: IgnoreMatcher;
  /** The Dockerfile, for messages. */
  dockerfile: string;
}

export async function applyCopies(tree: LayerTree, steps: readonly CopyStep[], context: CopyContext): Promise<void> {
  for (const step of steps) {
    const where = `${context.dockerfile}:${step.line}`;
    const root = step.from ?? context.contextDir;
    const filter = step.from ? undefined : context.ignore;
    const matched: string[] = [];
    for (const source of step.sources) {
      const found = await matchSource(root, cleanSource(source), filter);
      if (found.length === 0 && step.optional) continue;
      if (found.length === 0) {
        const excluded = filter && !hasWildcard(source) && (await exists(join(root, cleanSource(source))));
        throw new DockerfileError(`${where}: COPY ${source}: ${excluded ? "left out of the build context by .dockerignore" : "not found in the build context"} (${root}).`, {
          hint: excluded ? "Remove its pattern from .dockerignore, or stop copying it." : "Check the path: COPY sources are relative to the directory that holds the Dockerfile.",
        });
      }
      matched.push(...found);
    }
    const intoDirectory = step.dest.endsWith("/") || tree.isDirectory(step.dest);
    if (matched.length > 1 && !intoDirectory) {
      throw new DockerfileError(`${where}: COPY with several sources needs a destination directory ending with / (not ${step.dest}).`, { hint: `Write ${step.dest}/.` });
    }
    for (const relative of matched) {
      const source = join(root, relative);
      const info = await stat(source);
      const dest = posix.normalize(step.dest);
      if (info.isDirectory()) {
        tree.ensureDirectory(dest, step.owner);
        await copyDirectory(tree, source, relative, dest, step, filter);
      } else {
        const target = intoDirectory ? posix.join(dest, posix.basename(relative)) : dest;
        tree.add(fileEntry(target, source, info, step));
      }
    }
  }
}

async function copyDirectory(tree: LayerTree, dir: string, relative: string, dest: string, step: CopyStep, filter: IgnoreMatcher | undefined): Promise<void> {
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    const rel = relative === "." ? name : posix.join(relative, name);
    const ignored = filter?.ignores(rel) ?? false;
    const source = join(dir, name);
    const info = await lstat(source);
    const target = posix.join(dest, name);
    if (info.isDirectory()) {
      // An excluded directory is still walked when an exception (`!`) may bring files back.
      if (ignored && !filter!.hasExceptions) continue;
      if (!ignored) tree.add({ path: target, type: "directory", mode: step.mode ?? info.mode & 0o7777, ...ownerOf(step.owner), size: 0 });
      await copyDirectory(tree, source, rel, target, step, filter);
    } else if (ignored) {
      continue;
    } else if (info.isSymbolicLink()) {
      tree.add({ path: target, type: "symlink", mode: 0o777, ...ownerOf(step.owner), size: 0, linkName: await readlink(source) });
    } else if (info.isFile()) {
      tree.add(fileEntry(target, source, info, step));
    }
    // Sockets and pipes are not files Docker copies either.
  }
}

function fileEntry(path: string, source: string, info: Stats, step: CopyStep) {
  return { path, type: "file" as const, mode: step.mode ?? info.mode & 0o7777, ...ownerOf(step.owner), source, size: info.size };
}

function ownerOf(owner: Owner): Owner {
  return { uid: owner.uid, gid: owner.gid };
}

/** Sources cannot leave the context: Docker reads `../x` and `/x` as `x` inside it. */
function cleanSource(source: string): string {
  const cleaned = posix.normalize(`/${source}`).slice(1).replace(/\/+$/, "");
  return cleaned === "" ? "." : cleaned;
}

/** The context paths a source names: itself, or every path its wildcards match. */
async function matchSource(root: string, source: string, filter: IgnoreMatcher | undefined): Promise<string[]> {
  if (!hasWildcard(source)) {
    if (source !== "." && filter?.ignores(source)) return [];
    return (await exists(join(root, source))) ? [source] : [];
  }
  let candidates = ["."];
  for (const segment of source.split("/")) {
    const next: string[] = [];
    for (const dir of candidates) {
      if (!hasWildcard(segment)) {
        const path = dir === "." ? segment : `${dir}/${segment}`;
        if (await exists(join(root, path))) next.push(path);
        continue;
      }
      const pattern = segmentPattern(segment);
      const names = await readdir(join(root, dir)).catch(() => [] as string[]);
      for (const name of names.sort()) if (pattern.test(name)) next.push(dir === "." ? name : `${dir}/${name}`);
    }
    candidates = next;
  }
  return candidates.filter((c) => !filter?.ignores(c));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
