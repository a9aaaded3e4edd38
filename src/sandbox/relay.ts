import { chmodSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * The relay program. The sandbox starts it inside a service container's network namespace
 * (`nsenter -t <pid> -n`, see relay-process.ts), where only a loopback exists. Its file system
 * is still the sandbox's, so it links the two sides with unix sockets in the sandbox's private
 * run directory:
 * - inbound: each socket leads to one port of the service on the namespace's 127.0.0.1 (80,
 *   and the ports its probes check); only the gateway and the probes connect there;
 * - outbound: 127.0.0.1:<the sandbox's port> inside the namespace leads to the sandbox's API
 *   socket, so the service's C8Y_BASEURL is the sandbox's own address, and the only one it can reach.
 * It prints "ready" once everything listens, and ends when its stdin ends (the sandbox is gone).
 */
export interface RelayPlan {
  inbound: { socket: string; port: number }[];
  outbound: { port: number; socket: string };
}

function splice(client: Socket, upstream: Socket): void {
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", close).on("close", close);
  upstream.on("error", close).on("close", close);
  client.pipe(upstream).pipe(client);
}

function listen(server: Server, target: string | { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      server.off("error", reject);
      resolve();
    };
    if (typeof target === "string") server.listen(target, done);
    else server.listen(target.port, target.host, done);
  });
}

async function main(plan: RelayPlan): Promise<void> {
  for (const { socket, port } of plan.inbound) {
    rmSync(socket, { force: true });
    await listen(
      createServer((client) => splice(client, connect({ host: "127.0.0.1", port }))),
      socket,
    );
    chmodSync(socket, 0o600);
  }
  await listen(
    createServer((client) => splice(client, connect({ path: plan.outbound.socket }))),
    { port: plan.outbound.port, host: "127.0.0.1" },
  );
  process.stdout.write("ready\n");
}

process.stdin.on("close", () => process.exit(0)).resume();
process.on("SIGTERM", () => process.exit(0));
main(JSON.parse(process.argv[2] ?? "{}") as RelayPlan).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
