import { createHash } from "node:crypto";
import { readdir, readFile, symlink, mkdir, writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { execa } from "execa";

/**
 * What the --engine none tests need besides a registry: a PATH on which no container engine
 * can be found, pure-Python wheels made here (no package index is reachable), and digests of
 * what a build wrote.
 */

/** A directory of links to every program on PATH except docker and podman, to use as the only PATH. */
export async function pathWithoutEngines(into: string): Promise<string> {
  await mkdir(into, { recursive: true });
  const seen = new Set<string>();
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (seen.has(name) || /^(docker|podman|dockerd|containerd|runc|crun|buildah|nerdctl)/.test(name)) continue;
      seen.add(name);
      await symlink(join(dir, name), join(into, name)).catch(() => {});
    }
  }
  return into;
}

/**
 * A wheel of one module (`import <name>` gives `VALUE`), built with this machine's python:
 * a zip with the module, METADATA, WHEEL and RECORD, as PEP 427 lays it out.
 */
export async function makeWheel(dir: string, name: string, tag = "py3-none-any"): Promise<string> {
  const file = join(dir, `${name}-1.0-${tag}.whl`);
  const script = `
import base64, hashlib, sys, zipfile
name, file, tag = sys.argv[1], sys.argv[2], sys.argv[3]
info = f"{name}-1.0.dist-info"
files = {
  f"{name}/__init__.py": "VALUE = 'from the wheel'\\n",
  f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: 1.0\\n",
  f"{info}/WHEEL": f"Wheel-Version: 1.0\\nGenerator: c8y-ms-test\\nRoot-Is-Purelib: true\\nTag: {tag}\\n",
}
record = []
with zipfile.ZipFile(file, "w") as z:
  for path, text in files.items():
    data = text.encode()
    z.writestr(path, data)
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(data)}")
  record.append(f"{info}/RECORD,,")
  z.writestr(f"{info}/RECORD", "\\n".join(record) + "\\n")
`;
  await execa("python3", ["-c", script, name, file, tag]);
  return file;
}

export async function sha256File(path: string): Promise<string> {
  return createHash("sha256").update(await readFile(path)).digest("hex");
}

/** The python template, changed to install `requirements.txt` into /app/packages and import `module` at start. */
export async function addWheelRequirement(project: string, wheel: string, module: string): Promise<void> {
  await writeFile(join(project, "requirements.txt"), `./wheels/${wheel.split("/").at(-1)}\n`);
  const dockerfile = await readFile(join(project, "Dockerfile"), "utf8");
  await writeFile(
    join(project, "Dockerfile"),
    dockerfile.replace("COPY app ./app", "RUN pip install --no-cache-dir --target /app/packages -r requirements.txt\nENV PYTHONPATH=/app/packages\nCOPY app ./app"),
  );
  const main = join(project, "app", "__main__.py");
  await writeFile(main, `import ${module}  # installed from a local wheel by --engine none\n${await readFile(main, "utf8")}`);
}
