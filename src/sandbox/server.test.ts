import { connect, type Socket } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readyDocument, startSandboxServer, type RunningSandbox, type ServerLimits } from "./server.js";

/**
 * The server's limits against slow and greedy clients (issue 19), in process with limits short
 * enough for a test. Every wait here is for an event (an answer, a closed connection).
 */
const LIMITS: ServerLimits = { headersMs: 600, bodyMs: 600, idleMs: 600, maxConnections: 40 };

let sandbox: RunningSandbox;
let dataDir: string;
let auth: string;
let port: number;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "c8y-ms-server-"));
  sandbox = await startSandboxServer({ dataDir, port: 0, uploadLimit: 1024 * 1024, logger: { debug: () => {}, warn: () => {} }, faults: false, limits: LIMITS });
  const ready = readyDocument(sandbox.store, sandbox.url, { containers: false, faults: false, uploadLimit: 1024 * 1024 });
  const admin = ready.users.find((u) => u.role === "admin" && ready.tenants.find((t) => t.id === u.tenant)?.parent === null)!;
  auth = `Basic ${Buffer.from(`${admin.tenant}/${admin.user}:${admin.password}`).toString("base64")}`;
  port = Number(new URL(sandbox.url).port);
});
afterAll(async () => {
  await sandbox?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface Connection {
  socket: Socket;
  /** Everything the server sent, once it closed the connection. */
  closed: Promise<string>;
}

async function open(): Promise<Connection> {
  const socket = connect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let received = "";
  socket.on("data", (data) => (received += String(data)));
  const closed = new Promise<string>((resolve) => socket.once("close", () => resolve(received)));
  socket.on("error", () => {});
  return { socket, closed };
}

/** Writes one byte of `text` at a time, `everyMs` apart, until the connection closes or the text ends. */
function dribble(socket: Socket, text: string, everyMs: number): void {
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || at >= text.length) return void clearInterval(timer);
    socket.write(text.charAt(at++));
  }, everyMs);
  socket.once("close", () => clearInterval(timer));
}

describe("slow clients", () => {
  it("closes a connection whose headers come a byte at a time, however steadily", async () => {
    const { socket, closed } = await open();
    socket.write("GET /tenant/currentTenant HTTP/1.1\r\nHost: x\r\n");
    // 2000 bytes 50 ms apart would take 100 s: the connection is never idle, only slow.
    dribble(socket, `X-Slow: ${"a".repeat(2000)}\r\n\r\n`, 50);
    expect(await closed).toMatch(/^(HTTP\/1\.1 408|$)/);
  });

  it("closes a connection whose small body (a login form) comes a byte at a time", async () => {
    const { socket, closed } = await open();
    const form = `grant_type=PASSWORD&username=admin&password=${"x".repeat(1000)}`;
    socket.write(`POST /tenant/oauth HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n`);
    dribble(socket, form, 50);
    expect(await closed).toBe("");
  });

  it("closes an upload on which nothing moves, and keeps one that streams longer than any deadline", async () => {
    const { id } = (await (
      await fetch(`${sandbox.url}/application/applications`, {
        method: "POST",
        headers: { authorization: auth, "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ name: "slow-upload", key: "slow-upload", type: "MICROSERVICE" }),
      })
    ).json()) as { id: string };
    const head = `POST /application/applications/${id}/binaries HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;

    const stalled = await open();
    stalled.socket.write(head + chunk('--b\r\nContent-Disposition: form-data; name="note"\r\n\r\n'));
    expect(await stalled.closed).toBe("");

    // A text part in 20 pieces 100 ms apart: twice the body and idle limits in all, never idle that long.
    const streaming = await open();
    streaming.socket.write(head + chunk('--b\r\nContent-Disposition: form-data; name="note"\r\n\r\n'));
    let sent = 0;
    const timer = setInterval(() => {
      if (++sent <= 20) streaming.socket.write(chunk("some text "));
      else {
        clearInterval(timer);
        streaming.socket.write(chunk("\r\n--b--\r\n") + "0\r\n\r\n");
      }
    }, 100);
    const answer = await Promise.race([streaming.closed, new Promise<string>((resolve) => streaming.socket.on("data", (data) => resolve(String(data))))]);
    // No file part: 400 from the upload handler, which read the whole body.
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    streaming.socket.destroy();
  });
});

describe("oversized headers", () => {
  it("are refused with 431 (Node's 16 KB header limit) and the connection closed", async () => {
    const { socket, closed } = await open();
    socket.write(`GET /tenant/loginOptions HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(await closed).toMatch(/^HTTP\/1\.1 431/);
  });
});

describe("the connection cap", () => {
  it("serves as many connections at once as the cap allows and closes those beyond it unanswered", async () => {
    const connections = await Promise.all(Array.from({ length: LIMITS.maxConnections + 10 }, () => open()));
    // Keep-alive: an answered connection stays open (until idle), so all of them are open at once.
    const firsts = connections.map(
      ({ socket, closed }) =>
        new Promise<string>((resolve) => {
          socket.once("data", (data) => resolve(String(data)));
          void closed.then(resolve);
          socket.write("GET /tenant/loginOptions HTTP/1.1\r\nHost: x\r\n\r\n");
        }),
    );
    const answers = await Promise.all(firsts);
    const served = answers.filter((a) => a.startsWith("HTTP/1.1 200")).length;
    const dropped = answers.filter((a) => a === "").length;
    // An earlier test's keep-alive connection may still hold one place.
    expect(served + dropped).toBe(answers.length);
    expect(served).toBeLessThanOrEqual(LIMITS.maxConnections);
    expect(served).toBeGreaterThanOrEqual(LIMITS.maxConnections - 2);
    for (const { socket } of connections) socket.destroy();
  });
});
