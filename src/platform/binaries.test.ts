import { randomBytes } from "node:crypto";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliError } from "../errors.js";
import { Redactor } from "../secrets.js";
import type { Application } from "./applications.js";
import { uploadBinary } from "./binaries.js";
import { PlatformClient } from "./client.js";

/**
 * The upload against a real HTTP server on 127.0.0.1: what goes over the wire, and what
 * happens when the connection breaks half way (platform.md §3.3 #7).
 */

type Handler = (req: IncomingMessage, res: ServerResponse, body: () => Promise<Buffer>) => void | Promise<void>;

let server: Server;
let url: string;
let handlers: Handler[] = [];
let dir: string;
let zip: string;
// Several times the upload's ring of reused 1 MiB buffers, so reuse is exercised.
const content = randomBytes(9 * 1024 * 1024 + 17);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "c8y-ms-upload-"));
  zip = join(dir, "svc-1.0.0.zip");
  await writeFile(zip, content);
  server = createServer((req, res) => {
    const handler = handlers.shift();
    const body = async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    };
    if (!handler) res.writeHead(500).end("no handler");
    else void handler(req, res, body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function client(): { client: PlatformClient; warnings: string[] } {
  const warnings: string[] = [];
  const platform = new PlatformClient({
    connection: {
      baseUrl: new URL(url),
      urlFrom: "--url",
      tenant: "t1",
      credentials: { kind: "basic", user: "admin", password: "pw-123" },
      source: { kind: "basic", names: ["--user"], principal: "t1/admin" },
    },
    dispatcher: new Agent(),
    logger: { warn: (m) => warnings.push(m), debug: () => {} },
    redactor: new Redactor(),
    userAgent: "c8y-ms/test",
    sleep: async () => {},
  });
  return { client: platform, warnings };
}

const app: Application = { id: "42", name: "svc", key: "svc-key", type: "MICROSERVICE", activeVersionId: "7" };
/** The zip on disk, opened per attempt as deploy opens it. */
const fileAt = (path: string, bytes: number, fileName: string) => ({ label: path, bytes, fileName, open: () => open(path, "r") });
const file = () => fileAt(zip, content.length, "svc-1.0.0.zip");
const progress = () => {
  const events: string[] = [];
  let bytes = 0;
  return {
    events,
    bytes: () => bytes,
    factory: (label: string, total?: number) => {
      events.push(`start ${label} ${total}`);
      return { advance: (n: number) => void (bytes += n), done: () => void events.push("done"), fail: () => void events.push("fail") };
    },
  };
};
const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
};

describe("uploadBinary", () => {
  it("streams one multipart part named file with an exact Content-Length", async () => {
    let received: { headers: IncomingMessage["headers"]; body: Buffer } | undefined;
    handlers.push(async (req, res, body) => {
      received = { headers: req.headers, body: await body() };
      sendJson(res, 201, { ...app, activeVersionId: "8" });
    });
    const p = progress();
    const result = await uploadBinary(client().client, app, file(), { progress: p.factory });

    expect(result.activeVersionId).toBe("8");
    expect(received?.headers["transfer-encoding"]).toBeUndefined();
    expect(Number(received?.headers["content-length"])).toBe(received?.body.length);
    const boundary = /boundary=(.+)$/.exec(String(received?.headers["content-type"]))?.[1] ?? "";
    const text = received?.body ?? Buffer.alloc(0);
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="svc-1.0.0.zip"\r\nContent-Type: application/zip\r\n\r\n`;
    expect(text.subarray(0, head.length).toString()).toBe(head);
    expect(text.subarray(head.length, head.length + content.length).equals(content)).toBe(true);
    expect(text.subarray(head.length + content.length).toString()).toBe(`\r\n--${boundary}--\r\n`);
    expect(p.events).toEqual([`start Uploading svc-1.0.0.zip ${content.length}`, "done"]);
    expect(p.bytes()).toBe(content.length);
  });

  it("sends every byte intact to a server that reads slowly (buffers are reused only once sent)", async () => {
    let received: Buffer | undefined;
    handlers.push(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) {
        chunks.push(Buffer.from(chunk as Buffer));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      received = Buffer.concat(chunks);
      sendJson(res, 201, { ...app, activeVersionId: "11" });
    });
    await uploadBinary(client().client, app, file(), { progress: progress().factory });
    expect(received?.includes(content)).toBe(true);
  });

  it("after a reset mid-upload, checks that nothing landed, then sends the file again from the start", async () => {
    let secondBody: Buffer | undefined;
    handlers.push(async (req) => {
      // Read about a megabyte, then cut the connection without an answer.
      let seen = 0;
      for await (const chunk of req.iterator({ destroyOnReturn: false })) {
        seen += (chunk as Buffer).length;
        if (seen > 1024 * 1024) break;
      }
      req.socket.resetAndDestroy();
    });
    handlers.push((_req, res) => sendJson(res, 200, app)); // the landed check: version unchanged
    handlers.push(async (_req, res, body) => {
      secondBody = await body();
      sendJson(res, 201, { ...app, activeVersionId: "9" });
    });
    const { client: platform, warnings } = client();
    const p = progress();
    const result = await uploadBinary(platform, app, file(), { progress: p.factory });
    expect(result.activeVersionId).toBe("9");
    expect(secondBody?.includes(content)).toBe(true);
    expect(p.events).toEqual([`start Uploading svc-1.0.0.zip ${content.length}`, "fail", `start Uploading svc-1.0.0.zip ${content.length}`, "done"]);
    expect(warnings[0]).toMatch(/^POST \/application\/applications\/42\/binaries: (ECONNRESET|UND_ERR_SOCKET|EPIPE); retrying/);
  });

  it("does not upload again when the broken attempt landed", async () => {
    handlers.push(async (req, _res, body) => {
      await body();
      req.socket.resetAndDestroy();
    });
    handlers.push((_req, res) => sendJson(res, 200, { ...app, activeVersionId: "10" }));
    const result = await uploadBinary(client().client, app, file(), { progress: progress().factory });
    expect(result.activeVersionId).toBe("10");
    expect(handlers).toHaveLength(0);
  });

  it("fails cleanly when the file changes size during the upload", async () => {
    const small = join(dir, "small.zip");
    await writeFile(small, Buffer.alloc(10));
    handlers.push(async (_req, res, body) => {
      await body().catch(() => undefined);
      res.destroy();
    });
    const error = await uploadBinary(client().client, app, fileAt(small, 20, "small.zip"), { progress: progress().factory }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toContain("changed while it was being uploaded");
    handlers = [];
  });
});
