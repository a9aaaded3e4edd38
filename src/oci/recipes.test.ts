import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, test } from "vitest";
import { TEMPLATES_DIR } from "../scaffold/catalog.js";
import { DockerfileError, parseDockerfile } from "./dockerfile.js";
import { dockerignore } from "./patterns.js";
import { recipeFor, type RecipeContext } from "./recipes.js";
import { applyStage, finalStage } from "./stage.js";

const ctx = { exec: { run: () => Promise.reject(new Error("not run in this test")) } } as unknown as RecipeContext;
const NODE_TEMPLATE = join(TEMPLATES_DIR, "node", "Dockerfile");
const recipe = (text: string) => recipeFor({ dockerfile: parseDockerfile(text, "/p/Dockerfile"), contextDir: "/p", ignore: dockerignore(""), stagingDir: "/s", nodeTemplate: NODE_TEMPLATE }, ctx);

test("the node template's Dockerfile is recognised, whatever its base image default; its RUN and COPY --from become staged copies", async () => {
  const shipped = await readFile(NODE_TEMPLATE, "utf8");
  const text = shipped.replace("ARG BASE_IMAGE=node:22-alpine", "ARG BASE_IMAGE=registry.example.com/node:22");
  const node = await recipe(text);
  expect(node.overrides.size).toBe(2);
  expect(node.layerKey).toBeTypeOf("function");
  const applied = applyStage(finalStage(parseDockerfile(text, "/p/Dockerfile"), []), {}, "/p/Dockerfile", node.overrides);
  expect(applied.copies.map((c) => [c.from ?? "context", c.sources.join(" "), c.dest])).toEqual([
    ["context", "package.json package-lock.json", "/app/"],
    ["/s/run", "node_modules", "/app/node_modules"],
    ["/s/build", "dist", "/app/dist"],
  ]);
  expect(applied.config).toMatchObject({ Env: ["NODE_ENV=production"], WorkingDir: "/app", Cmd: ["node", "dist/main.js"], ExposedPorts: { "80/tcp": {} } });

  // One more step and it is an ordinary Dockerfile, whose RUN is refused.
  const edited = await recipe(text.replace("EXPOSE 80", "RUN true\nEXPOSE 80"));
  expect(edited.overrides.size).toBe(0);
});

test("pip install: the one form c8y-ms runs, anything else refused at its line", async () => {
  const pip = await recipe("FROM py\nWORKDIR /app\nRUN pip install --no-cache-dir --target packages -r requirements.txt\n");
  const applied = applyStage(finalStage(parseDockerfile("FROM py\nWORKDIR /app\nRUN pip install --no-cache-dir --target packages -r requirements.txt\n", "/p/Dockerfile"), []), {}, "/p/Dockerfile", pip.overrides);
  expect(applied.copies).toMatchObject([{ from: "/s/pip-3", sources: ["."], dest: "/app/packages/" }]);
  await expect(recipe("FROM py\nRUN python3 -m pip install --user -r r.txt\n")).rejects.toThrow(/Dockerfile:2: RUN pip install --user is not something c8y-ms can do/);
  await expect(recipe("FROM py\nRUN pip install -r r.txt\n")).rejects.toThrow(DockerfileError);
  await expect(recipe("FROM py\nRUN pip install -r r.txt\n")).rejects.toThrow(/without --target/);
});
