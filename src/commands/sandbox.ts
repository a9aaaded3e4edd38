import { resolve } from "node:path";
import { PLATFORM_ZIP_LIMIT_BYTES } from "../bundle/limits.js";
import type { Context } from "../context.js";
import { CliError } from "../errors.js";
import type { CommandOptions } from "../options.js";
import type { CommandResult } from "../result.js";
import { detectEngine, EngineNotAvailableError } from "../image/engine.js";
import { formatTable } from "../ui/format.js";
import { createContainerRuntime } from "../sandbox/containers.js";
import { chooseNetwork, probeIsolation, type NetworkMode } from "../sandbox/network-mode.js";
import { readyDocument, startSandboxServer, type ReadyDocument } from "../sandbox/server.js";

/**
 * Serves a local platform until Ctrl-C. The ready document is printed as soon as the sandbox
 * answers requests (stdout with --json, stderr for humans), not when the command ends.
 */
export async function sandbox(options: CommandOptions["sandbox"], ctx: Context): Promise<CommandResult> {
  const dataDir = resolve(ctx.cwd, options.dataDir);
  const uploadLimit = options.uploadLimit ?? PLATFORM_ZIP_LIMIT_BYTES;
  // `none` (often C8Y_MS_ENGINE=none, set for engine-less builds) means: nothing runs services.
  const runsServices = options.containers && options.engine !== "none";
  if (options.containers && !runsServices) ctx.logger.info("Engine none: the sandbox checks and stores uploads but runs no services (as --no-containers).");
  // Without an engine there is nothing to run services with: say so now, not at the first upload.
  const engine = runsServices ? await detectEngine(ctx, options.engine === "none" ? undefined : options.engine).catch(explainNoEngine) : undefined;
  let network: NetworkMode | undefined;
  if (engine) {
    const decision = chooseNetwork(options.network, await probeIsolation(ctx.exec, engine, ctx.signal));
    if (decision.warning) ctx.logger.warn(decision.warning);
    network = decision.mode;
  }
  let containers: ReturnType<typeof createContainerRuntime> | undefined;
  let running;
  try {
    running = await startSandboxServer({
      dataDir,
      port: options.port,
      uploadLimit,
      faults: Boolean(options.faults),
      logger: ctx.logger,
      createRuntime:
        engine && network
          ? (core, accept) => (containers = createContainerRuntime(core, accept, { engine, network, exec: ctx.exec, logger: ctx.logger, redactor: ctx.redactor }))
          : undefined,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new CliError(`Port ${options.port} on 127.0.0.1 is already in use.`, {
        hint: "Stop whatever listens there, or pick another port with --port (--port 0 picks a free one).",
      });
    }
    throw error;
  }

  const ready = readyDocument(running.store, running.url, {
    containers: Boolean(engine),
    ...(engine && network ? { engine: engine.name, network } : {}),
    faults: Boolean(options.faults),
    uploadLimit,
  });
  if (ctx.options.json) ctx.stdout.write(`${JSON.stringify(ready, null, 2)}\n`);
  else printForHumans(ready, ctx);
  // Services of earlier runs of this data directory come back in the background.
  containers?.start().catch((error: unknown) => ctx.logger.warn(`Could not restore services: ${error instanceof Error ? error.message : String(error)}`));

  await new Promise<void>((done) => {
    if (ctx.signal.aborted) done();
    else ctx.signal.addEventListener("abort", () => done(), { once: true });
  });
  ctx.logger.step("Stopping the sandbox");
  await running.close();
  // main.ts exits 130 because the signal was aborted; the document was printed already.
  return { data: undefined };
}

function printForHumans(ready: ReadyDocument, ctx: Context): void {
  const { logger } = ctx;
  const owner = ready.tenants.find((t) => t.parent === null);
  const admin = ready.users.find((u) => u.role === "admin" && u.tenant === owner?.id);
  logger.success(`Sandbox ready at ${ready.url}`);
  logger.info(`  data:       ${ready.dataDir}`);
  logger.info(
    `  containers: ${ready.containers ? `services run in ${ready.engine} after upload and subscription (network: ${ready.network})` : "off (uploads are checked and stored, not run)"}`,
  );
  logger.info(`  tenants:    ${ready.tenants.map((t) => (t.parent ? `${t.id} (subtenant of ${t.parent})` : `${t.id} (owner)`)).join(", ")}`);
  logger.info("  users:");
  const rows = ready.users.map((u) => [`${u.tenant}/${u.user}`, u.password, u.totpSecret ? `${u.role} (TOTP secret ${u.totpSecret})` : u.role]);
  logger.info(formatTable([["login", "password", "role"], ...rows]).replace(/^/gm, "    "));
  if (admin) {
    logger.info("");
    logger.info("Point c8y-ms at it:");
    logger.info(`  export C8Y_HOST=${ready.url} C8Y_TENANT=${admin.tenant} C8Y_USER=${admin.user} C8Y_PASSWORD='${admin.password}'`);
  }
  logger.info("Press Ctrl-C to stop.");
}

function explainNoEngine(error: unknown): never {
  if (error instanceof EngineNotAvailableError) {
    throw new EngineNotAvailableError(`${error.message} The sandbox runs uploaded services in a container engine.`, {
      hint: `${error.hint ?? ""}\nOr start the sandbox without running services: c8y-ms sandbox --no-containers`.trim(),
    });
  }
  throw error;
}
