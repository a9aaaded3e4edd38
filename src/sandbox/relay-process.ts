import { fileURLToPath } from "node:url";
import { startProcess } from "../exec.js";
import type { Logger } from "../ui/logger.js";
import type { RelayPlan } from "./relay.js";

const RELAY_SCRIPT = fileURLToPath(new URL("./relay.js", import.meta.url));
/** The relay is up in well under a second; past this something is wrong with nsenter or node. */
const READY_TIMEOUT_MS = 15_000;

export interface Relay {
  stop(): void;
}

/**
 * Starts the relay (relay.ts) inside the network namespace of the process `pid` (a service
 * container's first process): `nsenter --net` needs CAP_SYS_ADMIN, which network-mode.ts
 * checks before choosing this way. Resolves once the relay listens.
 * @throws {Error} with the relay's or nsenter's own words when it does not come up
 */
export function startRelay(logger: Pick<Logger, "debug">, pid: number, plan: RelayPlan): Promise<Relay> {
  return new Promise((resolve, reject) => {
    const said: string[] = [];
    const relay = startProcess(logger, "nsenter", [`--target=${pid}`, "--net", "--", process.execPath, RELAY_SCRIPT, JSON.stringify(plan)], (line) => {
      if (line === "ready") {
        clearTimeout(timer);
        resolve({ stop: relay.stop });
      } else if (line.trim() !== "") {
        said.push(line.trim());
      }
    });
    const timer = setTimeout(() => {
      relay.stop();
      reject(new Error(`the network relay did not start within ${READY_TIMEOUT_MS / 1000} s`));
    }, READY_TIMEOUT_MS);
    void relay.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the network relay ended (${code ?? "signal"})${said.length ? `: ${said.slice(-3).join(" ")}` : ""}`));
    });
  });
}
