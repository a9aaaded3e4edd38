import { expect, test } from "vitest";
import { UsageError } from "../errors.js";
import { isLoopbackRegistry, parseImageSource, parseRegistryReference } from "./reference.js";

test.each([
  ["node:22-alpine", { registry: "registry-1.docker.io", repository: "library/node", tag: "22-alpine", canonical: "docker.io/library/node:22-alpine" }],
  ["bitnami/python", { registry: "registry-1.docker.io", repository: "bitnami/python", tag: "latest" }],
  ["127.0.0.1:5055/c8y-ms-base/node:local", { registry: "127.0.0.1:5055", repository: "c8y-ms-base/node", tag: "local" }],
  ["localhost/team/svc", { registry: "localhost", repository: "team/svc", tag: "latest" }],
  [`ghcr.io/o/n@sha256:${"a".repeat(64)}`, { registry: "ghcr.io", repository: "o/n", tag: undefined, digest: `sha256:${"a".repeat(64)}` }],
])("%s", (text, expected) => {
  expect(parseRegistryReference(text)).toMatchObject(expected);
});

test("transports as skopeo names them", () => {
  expect(parseImageSource("docker-archive:/tmp/node.tar")).toEqual({ kind: "archive", transport: "docker-archive", path: "/tmp/node.tar" });
  expect(parseImageSource("oci-archive:base.tar")).toEqual({ kind: "archive", transport: "oci-archive", path: "base.tar" });
  expect(parseImageSource("docker-daemon:c8y-ms-base/node:local")).toEqual({ kind: "engine", ref: "c8y-ms-base/node:local" });
  expect(parseImageSource("docker://quay.io/x/y:1")).toMatchObject({ kind: "registry", reference: { registry: "quay.io", repository: "x/y", tag: "1" } });
});

test("names that are no references are usage errors", () => {
  expect(() => parseRegistryReference("Node:22")).toThrow(UsageError);
  expect(() => parseRegistryReference("node@sha256:short")).toThrow(/not a sha256 digest/);
  expect(() => parseImageSource("docker-archive:")).toThrow(/path is missing/);
});

test("loopback registries", () => {
  expect(isLoopbackRegistry("127.0.0.1:5055")).toBe(true);
  expect(isLoopbackRegistry("localhost:5000")).toBe(true);
  expect(isLoopbackRegistry("[::1]:5000")).toBe(true);
  expect(isLoopbackRegistry("registry.example.com")).toBe(false);
});
