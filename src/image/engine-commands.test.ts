import { describe, expect, it } from "vitest";
import type { Exec } from "../exec.js";
import { CommandFailedError } from "../exec.js";
import { buildArgs, inspectArgs, parseInspect, saveArgs, usesBuildKit, type BuildSpec } from "./engine-commands.js";
import type { Engine } from "./engine.js";

const spec: BuildSpec = {
  contextDir: "/work/svc",
  dockerfile: "/work/svc/Dockerfile",
  tag: "svc:1.0.0",
  buildArgs: ["BASE_IMAGE=node:22-alpine", "HTTP_PROXY=http://proxy:3128"],
  noCache: false,
  network: undefined,
  buildKit: false,
};

describe("engine command lines", () => {
  it("builds for linux/amd64 with the legacy docker builder: no attestation flags it would not know, no container kept from a failed step", () => {
    expect(buildArgs("docker", spec)).toEqual([
      "build", "--platform", "linux/amd64", "--force-rm", "--tag", "svc:1.0.0",
      "--build-arg", "BASE_IMAGE=node:22-alpine", "--build-arg", "HTTP_PROXY=http://proxy:3128",
      "--file", "/work/svc/Dockerfile", "/work/svc",
    ]);
  });

  it("turns attestations off under BuildKit so `docker save` writes one image (landscape.md #6)", () => {
    expect(buildArgs("docker", { ...spec, buildKit: true, noCache: true, network: "host", buildArgs: [] })).toEqual([
      "build", "--platform", "linux/amd64", "--provenance=false", "--sbom=false", "--load", "--tag", "svc:1.0.0",
      "--no-cache", "--network", "host", "--file", "/work/svc/Dockerfile", "/work/svc",
    ]);
  });

  it("asks podman for the docker image format, never attestation flags", () => {
    expect(buildArgs("podman", { ...spec, buildKit: true, network: "host", buildArgs: [] })).toEqual([
      "build", "--platform", "linux/amd64", "--format", "docker", "--tag", "svc:1.0.0",
      "--network", "host", "--file", "/work/svc/Dockerfile", "/work/svc",
    ]);
  });

  it("saves to a file, as a docker-archive with podman", () => {
    expect(saveArgs("docker", "svc:1.0.0", "/tmp/x/saved.tar")).toEqual(["save", "--output", "/tmp/x/saved.tar", "svc:1.0.0"]);
    expect(saveArgs("podman", "svc:1.0.0", "/tmp/x/saved.tar")).toEqual(["save", "--format", "docker-archive", "--output", "/tmp/x/saved.tar", "svc:1.0.0"]);
  });

  it("reads the id and platform that docker and podman print", () => {
    expect(inspectArgs("svc:1.0.0")).toEqual(["image", "inspect", "--format", "{{.Id}} {{.Os}} {{.Architecture}} {{.Size}}", "svc:1.0.0"]);
    expect(parseInspect("sha256:abc linux amd64 1234\n")).toEqual({ id: "sha256:abc", os: "linux", architecture: "amd64", size: 1234 });
    expect(parseInspect("abc linux arm64 99\n")).toEqual({ id: "sha256:abc", os: "linux", architecture: "arm64", size: 99 });
    expect(parseInspect("\n")).toBeUndefined();
  });
});

describe("usesBuildKit", () => {
  const docker: Engine = { name: "docker", command: "docker", version: "27.0.1", network: undefined };
  const context = (answer: () => string) => {
    const calls: string[][] = [];
    const exec: Exec = {
      run: async (_command, args) => {
        calls.push([...args]);
        return { stdout: answer(), stderr: "", tail: [] };
      },
    };
    return { calls, ctx: { exec, env: {}, signal: new AbortController().signal, logger: undefined as never } };
  };

  it("is true only when `docker build` itself takes --provenance (buildx as the builder)", async () => {
    const buildx = context(() => "Usage:  docker buildx build [OPTIONS] PATH\n      --provenance string   Shorthand for \"--attest=type=provenance\"\n");
    expect(await usesBuildKit(buildx.ctx, docker)).toBe(true);
    expect(buildx.calls).toEqual([["build", "--help"]]);
    // Docker 20-22 with buildx installed, or DOCKER_BUILDKIT=0: the legacy builder's help.
    const legacy = context(() => "Usage:  docker build [OPTIONS] PATH | URL | -\n      --force-rm   Always remove intermediate containers\n");
    expect(await usesBuildKit(legacy.ctx, docker)).toBe(false);
  });

  it("is false for podman without asking, and when docker build --help fails", async () => {
    const none = context(() => "");
    expect(await usesBuildKit(none.ctx, { ...docker, name: "podman", command: "podman" })).toBe(false);
    expect(none.calls).toEqual([]);
    const failing = context(() => {
      throw new CommandFailedError("docker", ["build", "--help"], 1, ["unknown flag"]);
    });
    expect(await usesBuildKit(failing.ctx, docker)).toBe(false);
  });
});
