import { describe, expect, test } from "vitest";
import { DockerfileError, parseDockerfile, substitute } from "./dockerfile.js";
import { applyStage, finalStage } from "./stage.js";

const PATH = "/p/Dockerfile";
const stageOf = (text: string, buildArgs: string[] = []) => finalStage(parseDockerfile(text, PATH), buildArgs);
const refusal = (text: string) => {
  try {
    const stage = stageOf(text);
    applyStage(stage, {}, PATH);
  } catch (error) {
    expect(error).toBeInstanceOf(DockerfileError);
    return (error as Error).message;
  }
  throw new Error("not refused");
};

describe("finalStage", () => {
  test("build args and ARG defaults apply to FROM", () => {
    const text = "ARG BASE_IMAGE=node:22-alpine\nFROM ${BASE_IMAGE}\nCMD [\"node\"]\n";
    expect(stageOf(text).base).toBe("node:22-alpine");
    expect(stageOf(text, ["BASE_IMAGE=127.0.0.1:5055/node:local"]).base).toBe("127.0.0.1:5055/node:local");
  });

  test("a final stage built on an earlier one takes its base and instructions first", () => {
    const stage = stageOf("FROM python:3.12 AS base\nENV A=1\nFROM base\nENV B=2\n");
    expect(stage.base).toBe("python:3.12");
    expect(stage.instructions.map((i) => i.args)).toEqual(["A=1", "B=2"]);
  });

  test("continuations, comments inside them and the escape directive", () => {
    const stage = stageOf("# escape=`\nFROM x\nENV A=1 `\n# a comment\n  B=2\nLABEL c=3\n");
    expect(stage.instructions).toMatchObject([{ keyword: "ENV", args: "A=1  B=2", line: 3 }, { keyword: "LABEL", line: 6 }]);
  });

  test("an empty base (a build arg without default) and scratch are refused", () => {
    expect(() => stageOf("ARG BASE\nFROM ${BASE}\n")).toThrow(/Dockerfile:2: FROM \$\{BASE\} starts from an empty name/);
    expect(() => stageOf("FROM scratch\n")).toThrow(/starts from scratch/);
    expect(() => stageOf("FROM --platform=linux/arm64 x\n")).toThrow(/only linux\/amd64/);
  });
});

describe("applyStage", () => {
  test("ENV, WORKDIR, USER, LABEL, EXPOSE, CMD and ENTRYPOINT change the base config", () => {
    const stage = stageOf(
      [
        "FROM base",
        "ARG VERSION=1.2",
        "ENV NODE_ENV=production PATH=/app/bin:$PATH",
        "ENV LEGACY some value",
        "WORKDIR /app",
        "WORKDIR sub",
        'LABEL version="$VERSION" "team"=iot',
        "EXPOSE 80 9000/udp",
        "USER 1000:1000",
        "CMD node main.js",
      ].join("\n"),
    );
    const applied = applyStage(stage, { Env: ["PATH=/usr/bin"], Cmd: ["node"], ExposedPorts: { "8080/tcp": {} } }, PATH);
    expect(applied.config).toEqual({
      Env: ["PATH=/app/bin:/usr/bin", "NODE_ENV=production", "LEGACY=some value"],
      Cmd: ["/bin/sh", "-c", "node main.js"],
      ExposedPorts: { "8080/tcp": {}, "80/tcp": {}, "9000/udp": {} },
      WorkingDir: "/app/sub",
      Labels: { version: "1.2", team: "iot" },
      User: "1000:1000",
    });
    expect(applied.workdirs).toEqual(["/app", "/app/sub"]);
  });

  test("ENTRYPOINT resets a CMD inherited from the base, not one set in the stage", () => {
    const inherited = applyStage(stageOf('FROM b\nENTRYPOINT ["python3"]\n'), { Cmd: ["sh"] }, PATH);
    expect(inherited.config).toMatchObject({ Entrypoint: ["python3"], Cmd: null });
    const own = applyStage(stageOf('FROM b\nCMD ["-m", "app"]\nENTRYPOINT ["python3"]\n'), { Cmd: ["sh"] }, PATH);
    expect(own.config).toMatchObject({ Entrypoint: ["python3"], Cmd: ["-m", "app"] });
  });

  test("COPY resolves its destination against WORKDIR and reads --chown and --chmod", () => {
    const applied = applyStage(stageOf('FROM b\nWORKDIR /app\nCOPY --chown=1000:10 --chmod=755 package.json lock.json ./\nCOPY ["src", "/srv/x"]\n'), {}, PATH);
    expect(applied.copies).toEqual([
      { line: 3, sources: ["package.json", "lock.json"], dest: "/app/", owner: { uid: 1000, gid: 10 }, mode: 0o755 },
      { line: 4, sources: ["src"], dest: "/srv/x", owner: { uid: 0, gid: 0 }, mode: undefined },
    ]);
  });

  test("anything outside the supported instructions stops with its file:line", () => {
    expect(refusal("FROM b\nWORKDIR /app\nRUN npm ci\n")).toMatch(/^\/p\/Dockerfile:3: RUN is not supported without a container engine/);
    expect(refusal("FROM b\nADD https://x/y /y\n")).toMatch(/Dockerfile:2: ADD/);
    expect(refusal("FROM b\nHEALTHCHECK CMD true\n")).toMatch(/Dockerfile:2: HEALTHCHECK/);
    expect(refusal("FROM b\nCOPY --from=build /a /b\n")).toMatch(/Dockerfile:2: COPY --from=build needs that stage built/);
    expect(refusal("FROM b\nCOPY --chown=node a b\n")).toMatch(/names a user/);
    expect(refusal("FROM b\nRUN <<EOF\necho\nEOF\n")).toMatch(/Dockerfile:2: here-documents/);
  });

  test("steps before the final stage are not built, so they may be anything", () => {
    const stage = stageOf("FROM node AS build\nRUN npm ci\nFROM python\nCOPY app ./app\n");
    expect(() => applyStage(stage, {}, PATH)).not.toThrow();
  });
});

test("substitute knows $VAR, ${VAR}, :- and :+ and an escaped dollar", () => {
  const vars = new Map([["A", "1"], ["E", ""]]);
  expect(substitute("$A ${A} ${E:-d} ${A:-d} ${A:+alt} ${E:+alt} \\$A $MISSING.", vars)).toBe("1 1 d 1 alt  $A .");
});
