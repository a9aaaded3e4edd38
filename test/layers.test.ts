import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./helpers/paths.js";
import { tempDir } from "./helpers/tmp.js";

const CHECK = join(REPO_ROOT, "scripts", "check-layers.mjs");

async function check(root?: string) {
  return execa("node", [CHECK, ...(root ? ["--root", root] : [])], { reject: false });
}

async function tree(files: Record<string, string>): Promise<string> {
  const root = await tempDir();
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), text);
  }
  return root;
}

describe("the layering of docs/architecture.md (scripts/check-layers.mjs)", () => {
  it("holds for src/", async () => {
    const run = await check();
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Layering holds: \d+ modules of .*src, no import cycle\.$/);
  });

  it("names each broken rule with its file and line", async () => {
    const root = await tree({
      "commands/pack.ts": 'import { deploy } from "./deploy.js";\n',
      "commands/deploy.ts": "export const deploy = 1;\n",
      "archive/zip.ts": 'import { image } from "../image/tar.js";\nexport const zip = image;\n',
      "image/tar.ts": 'import { zip } from "../archive/zip.js";\nexport const image = zip;\n',
      "platform/client.ts": 'import { readFile } from "node:fs/promises";\nimport type { Manifest } from "../manifest/schema.js";\nimport type { Logger } from "../ui/logger.js";\n',
      "manifest/schema.ts": 'import { request } from "undici";\nimport { render } from "../ui/diagnostics.js";\nexport type Manifest = {};\n',
      "ui/diagnostics.ts": 'import chalk from "chalk";\nexport const render = chalk;\n',
      "ui/logger.ts": "export interface Logger {}\n",
      "pipeline/deploy.ts": 'import { execa } from "execa";\nimport { Command } from "commander";\n',
      "stray.ts": "export {};\n",
    });
    const run = await check(root);
    expect(run.exitCode).toBe(1);
    const lines = run.stderr.split("\n").slice(1).map((l) => l.trim());
    expect(lines).toEqual(
      expect.arrayContaining([
        "commands/pack.ts:1: imports ./deploy.js; commands never import each other (what two share lives in a core module)",
        "archive/zip.ts:1: imports ../image/tar.js (image); archive may import ground",
        expect.stringMatching(/^import cycle: (archive\/zip\.ts -> image\/tar\.ts -> archive\/zip\.ts|image\/tar\.ts -> archive\/zip\.ts -> image\/tar\.ts)$/),
        "platform/client.ts:1: imports node:fs/promises (platform/ knows no files: what it sends is handed to it)",
        "platform/client.ts:2: imports ../manifest/schema.js (platform/ knows nothing of files or manifests)",
        "manifest/schema.ts:1: imports undici, which only platform, sandbox, oci may use (only the platform client, the sandbox and the registry client (oci/) speak HTTP)",
        "manifest/schema.ts:2: imports ../ui/diagnostics.js (ui); core modules never import commands/ or ui/ renderers",
        "pipeline/deploy.ts:1: imports execa, which only exec may use (exec.ts is the one wrapper that starts processes)",
        "pipeline/deploy.ts:2: imports commander, which only cli may use (every command-line declaration lives in cli.ts)",
        "stray.ts: belongs to no layer; add it to PARTS in scripts/check-layers.mjs and to docs/architecture.md",
      ]),
    );
    // A type-only import of ui/ (the Logger a core is handed) is not a violation; chalk in ui/ is its job.
    expect(run.stderr).not.toContain("platform/client.ts:3");
    expect(run.stderr).not.toContain("ui/diagnostics.ts");
  });
});
