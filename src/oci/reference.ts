import { UsageError } from "../errors.js";

/**
 * Where a base image comes from, written as skopeo's transports name them (containers-transports(5)):
 *   node:22-alpine, docker://registry.example.com/team/node:22   a registry (OCI distribution API)
 *   docker-archive:/path/node.tar                                  a `docker save` archive
 *   oci-archive:/path/node.tar                                     an OCI image layout archive
 *   docker-daemon:node:22-alpine                                   a running engine's image store
 */
export type ImageSource =
  | { kind: "registry"; reference: RegistryReference }
  | { kind: "archive"; transport: "docker-archive" | "oci-archive"; path: string }
  | { kind: "engine"; ref: string };

export interface RegistryReference {
  /** Host (and port) to connect to: registry-1.docker.io for Docker Hub. */
  registry: string;
  /** The repository: library/node for `node`. */
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
  /** The reference in its full form, for messages and the cache. */
  canonical: string;
}

const DOCKER_HUB = "registry-1.docker.io";

export function parseImageSource(text: string): ImageSource {
  const transport = /^(docker-archive|oci-archive|docker-daemon|docker):(.*)$/.exec(text);
  if (transport) {
    const [, kind, rest = ""] = transport;
    if (kind === "docker") return { kind: "registry", reference: parseRegistryReference(rest.replace(/^\/\//, ""), text) };
    if (kind === "docker-daemon") return { kind: "engine", ref: rest };
    if (rest === "") throw invalid(text, "the archive's path is missing");
    return { kind: "archive", transport: kind as "docker-archive" | "oci-archive", path: rest };
  }
  return { kind: "registry", reference: parseRegistryReference(text, text) };
}

/** distribution/reference's grammar: [domain/]path[:tag][@digest], Docker Hub by default. */
export function parseRegistryReference(text: string, shown = text): RegistryReference {
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw invalid(shown, `${digest} is not a sha256 digest`);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw invalid(shown, `the tag ${tag} is not valid`);
  }
  const parts = rest.split("/");
  const first = parts[0]!;
  const hasDomain = parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost");
  let domain = hasDomain ? first : "docker.io";
  let path = (hasDomain ? parts.slice(1) : parts).join("/");
  if (domain === "index.docker.io") domain = "docker.io";
  if (domain === "docker.io" && !path.includes("/")) path = `library/${path}`;
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(path)) {
    throw invalid(shown, `${path || "an empty name"} is not a repository name (lowercase letters, digits, . _ - and /)`);
  }
  if (!tag && !digest) tag = "latest";
  const canonical = `${domain}/${path}${tag ? `:${tag}` : ""}${digest ? `@${digest}` : ""}`;
  return { registry: domain === "docker.io" ? DOCKER_HUB : domain, repository: path, tag, digest, canonical };
}

function invalid(text: string, why: string): UsageError {
  return new UsageError(`The base image ${text} cannot be read: ${why}.`, {
    hint: "Write a registry reference (node:22-alpine, registry.example.com/team/node:22@sha256:...), or docker-archive:<file>, oci-archive:<file> or docker-daemon:<image>.",
  });
}

/** Registries on this machine may speak plain HTTP, as Docker allows for 127.0.0.0/8 without configuration. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
