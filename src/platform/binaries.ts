import type { Progress, ProgressFactory } from "../ui/progress.js";
import { getApplication, normaliseApplication, ROLES, type Application } from "./applications.js";
import type { PlatformClient } from "./client.js";
import { multipartFile, type FileToUpload } from "./multipart.js";

/**
 * The platform checks the zip and pushes the image to its registry before it answers, which
 * takes minutes for big images (platform.md §3.4 step 4; the request quota is 5 minutes).
 */
const UPLOAD_ANSWER_TIMEOUT_MS = 15 * 60_000;
/** A multi-GB upload is not sent more often than this. */
const UPLOAD_ATTEMPTS = 3;

export interface UploadOptions {
  progress: ProgressFactory;
  /** Every byte is on its way; the platform is now checking and storing the image. */
  onSent?: () => void;
  /** Stops the upload (e.g. a check running beside it failed); its reason is thrown. */
  signal?: AbortSignal | undefined;
  /** Must resolve before the last bytes go out, so a failing check means the upload never lands. */
  gate?: (() => Promise<void>) | undefined;
}

/**
 * Uploads a zip as the application's new binary (platform.md §3.3 #7), streamed from its bytes.
 * `app` must be fresh: its `activeVersionId` is how a failed attempt is told apart from one
 * that landed (every accepted upload changes it), so a zip is never sent twice by mistake.
 */
export async function uploadBinary(client: PlatformClient, app: Application, file: FileToUpload, options: UploadOptions): Promise<Application> {
  const before = app.activeVersionId;
  let progress: Progress | undefined;
  let sent = 0;
  const body = multipartFile(file, options.gate);
  try {
    const response = await client.send({
      method: "POST",
      path: `/application/applications/${encodeURIComponent(app.id)}/binaries`,
      body: {
        headers: body.headers,
        open: () => {
          progress?.fail();
          const attempt = options.progress(`Uploading ${file.fileName}`, file.bytes);
          progress = attempt;
          sent = 0;
          return body.open((bytes) => {
            // A broken attempt's stream may still be drained after the next one opened.
            if (attempt !== progress) return;
            sent += bytes;
            attempt.advance(bytes);
            if (sent === file.bytes) {
              attempt.done();
              options.onSent?.();
            }
          });
        },
      },
      landed: async () => {
        const now = await getApplication(client, app.id);
        return now.activeVersionId !== undefined && now.activeVersionId !== before ? now : undefined;
      },
      headersTimeoutMs: UPLOAD_ANSWER_TIMEOUT_MS,
      retry: { attempts: UPLOAD_ATTEMPTS },
      signal: options.signal,
      action: `upload ${file.fileName} to ${app.name}`,
      role: ROLES.appAdmin,
    });
    const uploaded = response.body as Application | undefined;
    // The platform answers 201 with the application; without a body (it happens behind some proxies) read it.
    return uploaded && typeof uploaded === "object" && "id" in uploaded ? normaliseApplication(uploaded) : await getApplication(client, app.id);
  } catch (error) {
    if (sent < file.bytes) progress?.fail();
    throw error;
  }
}
