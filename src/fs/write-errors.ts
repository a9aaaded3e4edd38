import { CliError } from "../errors.js";

/** Why a write can fail that is the machine's, not c8y-ms's, and what to do about it. */
const CAUSES: Readonly<Record<string, { reason: string; fix: string }>> = {
  ENOSPC: { reason: "the disk is full", fix: "Free some space (or write elsewhere: --output, TMPDIR) and run it again." },
  EDQUOT: { reason: "the disk quota is used up", fix: "Free some space within your quota (or write elsewhere: --output, TMPDIR) and run it again." },
  EFBIG: { reason: "the file outgrew the file size limit (ulimit -f)", fix: "Raise the limit (`ulimit -f unlimited`) or shrink the image, and run it again." },
  EROFS: { reason: "the file system is read-only", fix: "Write elsewhere (--output, TMPDIR)." },
  EACCES: { reason: "permission denied", fix: "Write where you may (--output, TMPDIR), or fix the directory's permissions." },
  EPERM: { reason: "permission denied", fix: "Write where you may (--output, TMPDIR), or fix the directory's permissions." },
};

/**
 * A failed write as one clear error naming the file and the cause, or the error itself when
 * it is not one of these. Callers have removed what they had half-written before this runs.
 */
export function writeFailure(path: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const cause = code ? CAUSES[code] : undefined;
  if (!cause || error instanceof CliError) return error;
  return new CliError(`Cannot write ${path}: ${cause.reason}. Nothing was kept.`, { hint: cause.fix, cause: error });
}
