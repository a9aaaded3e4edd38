import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { expect, test } from "vitest";
import { TEMPLATES_DIR } from "../src/scaffold/catalog.js";
import { runCli } from "./helpers/cli.js";
import { NODE_BASE_IMAGE, PYTHON_BASE_IMAGE } from "./helpers/paths.js";
import { tempDir } from "./helpers/tmp.js";

/**
 * The dockerfile template ships test/contract.sh: build the image, GET /health on SERVER_PORT,
 * and exit 0 on SIGTERM as the container's main process (platform.md §4). It runs here on
 * every template's image, since only a container shows how PID 1 treats SIGTERM.
 */
const CONTRACT = join(TEMPLATES_DIR, "dockerfile", "test", "contract.sh");

test.each([
  ["dockerfile", PYTHON_BASE_IMAGE],
  ["python", PYTHON_BASE_IMAGE],
  ["node", NODE_BASE_IMAGE],
])("the %s template's image keeps the runtime contract (test/contract.sh)", async (template, baseImage) => {
  const cwd = await tempDir();
  const init = await runCli(["init", "svc", "--template", template, "--no-install", "--no-git"], { cwd });
  expect(init.exitCode, init.stderr).toBe(0);
  const project = join(cwd, "svc");
  // The dockerfile template has it already; the others get the same script.
  if (template !== "dockerfile") {
    await mkdir(join(project, "test"), { recursive: true });
    await copyFile(CONTRACT, join(project, "test", "contract.sh"));
  }

  const run = await execa("sh", ["test/contract.sh", "--build-arg", `BASE_IMAGE=${baseImage}`], {
    cwd: project,
    env: { C8Y_MS_NETWORK: "host" },
    reject: false,
    all: true,
  });
  expect(run.exitCode, run.all).toBe(0);
  expect(run.stdout).toBe("1. build\n2. GET /health\n3. SIGTERM\nok: the image keeps the runtime contract");
});
