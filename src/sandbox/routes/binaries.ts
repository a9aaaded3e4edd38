import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { commitTemp, discardTemp, tempPathFor } from "../../fs/atomic.js";
import { checkUnique, invalidDataError, ownedApplication, syncApplicationUsers } from "../applications.js";
import { ApiError, sendJson } from "../http.js";
import { boundaryOf, MultipartError, receiveFile, TooLargeError } from "../multipart.js";
import { applicationJson } from "../representations.js";
import type { Route } from "../router.js";
import { ROLES, type ApplicationRecord, type SandboxState, type Store } from "../state.js";
import type { CheckedUpload } from "../zip-check.js";

/** Room for the multipart framing around the zip when judging a declared Content-Length. */
const MULTIPART_SLACK_BYTES = 64 * 1024;

/** Where a version's zip is kept, relative to the data directory. */
export function binaryPath(applicationId: string, versionId: string): string {
  return join("binaries", applicationId, `${versionId}.zip`);
}

/** platform.md §3.3 #7 and §6.4: the upload of a microservice zip. */
export const binaryRoutes: Route[] = [
  {
    method: "POST",
    path: "/application/applications/:id/binaries",
    access: "user",
    roles: [ROLES.appAdmin],
    streamsBody: true,
    handle: async (call) => {
      const { req, res, core, principal, params } = call;
      const store = core.store;
      const app = ownedApplication(store.state, principal.tenant, params.id ?? "");
      if (app.type !== "MICROSERVICE") {
        throw invalidDataError(`Application ${app.name} is of type ${app.type}; the sandbox hosts only microservice binaries.`);
      }
      const upload = await receiveUpload(req, store.dataDir, core.uploadLimit);
      try {
        const checked = await core.uploads.check(upload.path, core.uploadLimit, upload.fileName);
        // The application may have changed (another upload) or gone while this one was checked.
        const updated = await store.exclusive(app.id, () => activateVersion(store, ownedApplication(store.state, principal.tenant, app.id), checked, upload));
        core.runtime.reconcile(updated.id);
        sendJson(req, res, 201, "application", applicationJson(updated, core.baseUrl));
      } finally {
        await discardTemp(upload.path);
      }
    },
  },
];

interface Upload {
  path: string;
  fileName: string | undefined;
  bytes: number;
}

/**
 * Streams the file part to a temporary file beside the binaries. Nothing is buffered: the
 * limit is enforced while reading, and reading stops at the first byte over it.
 */
async function receiveUpload(req: IncomingMessage, dataDir: string, limit: number): Promise<Upload> {
  const boundary = boundaryOf(req.headers["content-type"]);
  if (!boundary) {
    throw new ApiError(415, "general/unsupportedMediaType", "Upload the zip as multipart/form-data with the file in one part (e.g. curl -F file=@service.zip).");
  }
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit + MULTIPART_SLACK_BYTES) throw tooLarge(limit);

  const dir = join(dataDir, "binaries");
  await mkdir(dir, { recursive: true });
  const path = tempPathFor(join(dir, "upload.zip"));
  const out = createWriteStream(path);
  // Every error of the file stream ends up here, also one that arrives after we gave up on it.
  const failed = new Promise<never>((_, reject) => out.on("error", reject));
  failed.catch(() => undefined);
  try {
    // destroyOnReturn: false keeps the connection open when we stop early, so the 413 reaches the client.
    const file = await receiveFile(req.iterator({ destroyOnReturn: false }), boundary, (chunk) => writeChunk(out, chunk, failed), limit);
    await Promise.race([new Promise<void>((resolve) => out.end(() => resolve())), failed]);
    if (!file) throw new ApiError(400, "general/badRequest", "The multipart body holds no file part; send the zip as a file (filename set).");
    return { path, fileName: file.fileName, bytes: file.bytes };
  } catch (error) {
    out.destroy();
    await discardTemp(path);
    if (error instanceof TooLargeError) throw tooLarge(limit);
    if (error instanceof MultipartError) throw new ApiError(400, "general/badRequest", error.message);
    throw error;
  }
}

/**
 * 413 as the platform's 500 MB limit (platform.md §2). The body text is ours (the platform's is
 * undocumented). No `connection: close`: Node would close at once and a client still sending
 * (undici) would see EPIPE instead of the answer; the server lingers, then closes (server.ts).
 */
function tooLarge(limit: number): ApiError {
  const size = limit % (1024 * 1024) === 0 ? `${limit / (1024 * 1024)} MB` : `${limit} bytes`;
  return new ApiError(413, "general/requestEntityTooLarge", `The uploaded file is larger than the limit of ${size}.`);
}

/** Writes with backpressure: waits for `drain` when the file stream's buffer is full. */
function writeChunk(out: WriteStream, chunk: Buffer, failed: Promise<never>): Promise<void> | void {
  if (out.write(chunk)) return;
  return Promise.race([once(out, "drain").then(() => undefined), failed]);
}

/**
 * The version rules of platform.md §1.7 (newer variant, with re-upload of older identical
 * versions since 2025.192.0): X.Y.Z-SNAPSHOT is always accepted; any other version that was
 * uploaded before is accepted only with the identical image. The platform's status and text
 * for the refusal are undocumented; the sandbox answers 422 like the other upload checks.
 */
export function checkVersionRules(state: SandboxState, app: ApplicationRecord, checked: CheckedUpload): void {
  if (/-SNAPSHOT$/.test(checked.version)) return;
  const clash = state.versions.find((v) => v.application === app.id && v.version === checked.version && v.imageId !== checked.imageId);
  if (clash) {
    throw invalidDataError(
      `Microservice version ${checked.version} was uploaded before with a different image; a released version cannot change. Upload a new version, or use ${checked.version}-SNAPSHOT while developing.`,
    );
  }
}

/**
 * Accepts the upload: a new version id (every upload gets one, so a client can tell whether
 * a failed request landed), the zip moved into place, and the application updated from the
 * manifest (requiredRoles, roles, contextPath, manifest), as the platform does on upload.
 */
async function activateVersion(store: Store, app: ApplicationRecord, checked: CheckedUpload, upload: Upload): Promise<ApplicationRecord> {
  const { manifest } = checked;
  const state = store.state;
  // When the manifest names the service, it must be this application (a choice: platform.md §7
  // leaves open whether the platform enforces it). Without a name the application's counts.
  if (typeof manifest.name === "string" && manifest.name !== app.name) {
    throw invalidDataError(`The manifest names the microservice '${manifest.name}', but it was uploaded to the application '${app.name}'.`);
  }
  checkVersionRules(state, app, checked);
  const contextPath = typeof manifest.contextPath === "string" ? manifest.contextPath : app.contextPath;
  checkUnique(state, { ...app, contextPath });

  const versionId = store.nextId();
  const file = binaryPath(app.id, versionId);
  await mkdir(join(store.dataDir, "binaries", app.id), { recursive: true });
  await commitTemp(upload.path, join(store.dataDir, file));
  const previous = app.activeVersionId;

  state.versions.push({ id: versionId, application: app.id, version: checked.version, imageId: checked.imageId, file, bytes: upload.bytes, created: new Date().toISOString() });
  app.manifest = manifest;
  app.requiredRoles = stringList(manifest.requiredRoles);
  app.roles = stringList(manifest.roles);
  if (contextPath !== undefined) app.contextPath = contextPath;
  app.activeVersionId = versionId;
  app.lastUpdated = new Date().toISOString();
  syncApplicationUsers(state, app);
  await store.save();
  // Only the active version's zip is kept; older versions are remembered by their image digest.
  const old = state.versions.find((v) => v.id === previous);
  if (old) await rm(join(store.dataDir, old.file), { force: true });
  return app;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
