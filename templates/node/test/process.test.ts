import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { basicAuth } from "../src/platform.js";
import { startFakePlatform, type FakePlatform } from "./fake-platform.js";

/** The compiled entry point, run as the container runs it. */
const MAIN = fileURLToPath(new URL("../src/main.js", import.meta.url));

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>): Running {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (text: string) => (output += text));
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (output += text));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  return { child, output: () => output, exited };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  assert.ok(condition(), `timed out waiting for ${what}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let platform: FakePlatform;
before(async () => {
  platform = await startFakePlatform();
});
after(() => platform.close());

function platformEnv(port: number): Record<string, string> {
  return {
    SERVER_PORT: String(port),
    APPLICATION_NAME: "my-service",
    C8Y_BASEURL: platform.url,
    C8Y_MICROSERVICE_ISOLATION: "MULTI_TENANT",
    C8Y_BOOTSTRAP_TENANT: platform.bootstrap.tenant,
    C8Y_BOOTSTRAP_USER: platform.bootstrap.user,
    C8Y_BOOTSTRAP_PASSWORD: platform.bootstrap.password,
  };
}

test("starts on SERVER_PORT, reads the service users, and on SIGTERM answers the request in flight before it exits 0", async () => {
  const port = await freePort();
  const service = start(platformEnv(port));
  try {
    await until(() => service.output().includes("Subscribed tenants: t100"), "the service users");
    await until(() => service.output().includes(`listening on port ${port}`), "the listening line");

    platform.delayMs = 500;
    const inFlight = fetch(`http://127.0.0.1:${port}/hello`, basicAuth(platform.users[0]!));
    await until(() => platform.requests.some((r) => r.startsWith("GET /user/currentUser as t100/alice")), "the request to reach the platform");
    service.child.kill("SIGTERM");

    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.equal(await service.exited, 0);
    assert.match(service.output(), /INFO SIGTERM: finishing requests in flight\n.*INFO GET \/hello 200 \d+ms\n.*INFO Stopped\n/s);
    assert.ok(!service.output().includes(platform.bootstrap.password), "the bootstrap password is never logged");
  } finally {
    platform.delayMs = 0;
    service.child.kill("SIGKILL");
  }
});

test("without the platform's variables it exits 1 and names them", async () => {
  const service = start({ SERVER_PORT: String(await freePort()) });
  assert.equal(await service.exited, 1);
  assert.match(service.output(), /ERROR Missing environment variables C8Y_BASEURL, C8Y_BOOTSTRAP_TENANT, C8Y_BOOTSTRAP_USER, C8Y_BOOTSTRAP_PASSWORD\./);
});
