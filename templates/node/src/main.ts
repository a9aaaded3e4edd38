import { ConfigError, readConfig, type Access, type Config } from "./config.js";
import { createLogger, type Logger } from "./log.js";
import { Platform } from "./platform.js";
import { createService, shutdown } from "./server.js";
import { fixedServiceUser, subscribedServiceUsers, type ServiceUsers } from "./service-users.js";

/** Kubernetes kills the container 30 s after SIGTERM; finish well within that. */
const SHUTDOWN_GRACE_MS = 20_000;

const log = createLogger();

let config: Config;
try {
  config = readConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  log.error(error.message);
  process.exit(1);
}

const platform = new Platform(config.baseUrl);
const serviceUsers = serviceUsersFor(config.access, platform, log);
const server = createService({ platform, serviceUsers, log });

server.on("error", (error) => {
  log.error(`Cannot listen on port ${config.port}: ${error.message}`);
  process.exit(1);
});
server.listen(config.port, () => {
  log.info(`${config.applicationName || "Service"} listening on port ${config.port} (${config.access.isolation})`);
});

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: finishing requests in flight`);
    serviceUsers.stop();
    void shutdown(server, SHUTDOWN_GRACE_MS).then(() => {
      log.info("Stopped");
      process.exit(0);
    });
  });
}

function serviceUsersFor(access: Access, platform: Platform, log: Logger): ServiceUsers {
  if (access.isolation === "PER_TENANT") return fixedServiceUser(access.serviceUser);
  const { bootstrap } = access;
  return subscribedServiceUsers(() => platform.serviceUsers(bootstrap), log);
}
