import type { Context } from "../context.js";
import { CliError, ExitCode } from "../errors.js";
import { deleteApplication as deleteOnPlatform, requireOwnedApplication } from "../platform/applications.js";
import type { ConnectionOptions } from "../platform/connection.js";
import { withSession } from "../platform/session.js";
import { readStatus } from "../platform/status.js";
import type { CommandResult } from "../result.js";

export interface DeleteResult {
  application: { id: string; name: string };
  deleted: boolean;
}

/**
 * `c8y-ms delete <name>`: asks first, naming the tenants that lose the service; without a
 * terminal only `--yes` deletes (the prompter fails with exit 2 otherwise).
 */
export async function deleteApplication(name: string, options: ConnectionOptions, ctx: Context): Promise<CommandResult> {
  return withSession(options, ctx, async ({ client, tenant }) => {
    const app = await requireOwnedApplication(client, name, tenant);
    const subscribers = await readStatus(client, app).then(
      (status) => Object.keys(status?.c8y_Subscriptions ?? {}),
      // Without inventory access the question cannot list them; the deletion itself does not need it.
      (error: unknown) => {
        if (error instanceof CliError && error.exitCode !== ExitCode.Interrupted) return undefined;
        throw error;
      },
    );
    const losing = subscribers === undefined ? "" : subscribers.length > 0 ? ` It unsubscribes ${subscribers.join(", ")}.` : "";
    const confirmed = await ctx.prompter.confirm({ message: `Delete ${app.name} (id ${app.id}) from tenant ${tenant}?${losing}`, flag: "--yes" });
    const application = { id: app.id, name: app.name };
    if (!confirmed) {
      ctx.logger.info("Nothing was deleted.");
      return { data: { application, deleted: false } satisfies DeleteResult };
    }
    const outcome = await deleteOnPlatform(client, app);
    ctx.logger.success(outcome === "gone" ? `${app.name} was already gone.` : `Deleted ${app.name} (id ${app.id}).`);
    return { data: { application, deleted: true } satisfies DeleteResult };
  });
}
