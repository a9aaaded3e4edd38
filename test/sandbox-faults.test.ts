import { request, type ClientRequest } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { basicAuth, startSandbox, type SandboxHandle } from "./helpers/sandbox.js";

/** Fault injection (TEAM.md part C): only with --faults; status codes, delays, resets, `times`. */

let sandbox: SandboxHandle;
let appId: string;

beforeAll(async () => {
  sandbox = await startSandbox({ faults: true });
  const response = await sandbox.fetch("/application/applications", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "faulty", key: "faulty-key", type: "MICROSERVICE" }),
  });
  appId = String(((await response.json()) as { id: string }).id);
});
afterAll(async () => {
  await sandbox?.stop();
});
beforeEach(async () => {
  await sandbox.clearFaults();
});

/** Sends `bytes` of body in chunks and reports how the exchange ended. */
function upload(path: string, bytes: number): Promise<{ status?: number; body?: string; error?: string; sent: number }> {
  return new Promise((resolve) => {
    let sent = 0;
    const req = request(`${sandbox.url}${path}`, {
      method: "POST",
      headers: { authorization: basicAuth(sandbox.admin), "content-type": "multipart/form-data; boundary=x", "content-length": String(bytes) },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d) => (body += String(d)));
      res.on("end", () => resolve({ status: res.statusCode, body, sent }));
      res.on("error", (error) => resolve({ error: error.message, sent }));
    });
    req.on("error", (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message, sent }));
    const chunk = Buffer.alloc(64 * 1024, 1);
    const pump = () => {
      while (sent < bytes) {
        const piece = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
        sent += piece.length;
        if (!req.write(piece)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

describe("fault injection", () => {
  it("answers a matching route with the chosen status, `times` times, in the platform's error shape", async () => {
    await sandbox.setFaults([{ method: "GET", path: "/application/applications/*", status: 503, times: 2 }]);
    const first = await sandbox.fetch(`/application/applications/${appId}`);
    expect(first.status).toBe(503);
    expect(await first.json()).toMatchObject({ error: "general/injectedFault", message: "Service Unavailable (injected by the sandbox)" });
    expect((await sandbox.fetch(`/application/applications/${appId}`)).status).toBe(503);
    expect((await sandbox.fetch(`/application/applications/${appId}`)).status).toBe(200);
    // `*` is one segment: deeper paths do not match.
    await sandbox.setFaults([{ path: "/application/applications/*", status: 500 }]);
    expect((await sandbox.fetch(`/application/applications/${appId}/bootstrapUser`)).status).toBe(200);
    expect((await sandbox.fetch("/tenant/currentTenant")).status).toBe(200);
  });

  it("applies rules in order and reports how often each fired", async () => {
    await sandbox.setFaults([
      { path: "/tenant/currentTenant", status: 502, message: "Bad gateway in front", times: 1 },
      { path: "/tenant/**", status: 500 },
    ]);
    const first = await sandbox.fetch("/tenant/currentTenant");
    expect(first.status).toBe(502);
    expect(((await first.json()) as { message: string }).message).toBe("Bad gateway in front");
    expect((await sandbox.fetch("/tenant/currentTenant")).status).toBe(500);
    expect((await sandbox.fetch("/tenant/tenants")).status).toBe(500);
    const rules = (await (await fetch(`${sandbox.url}/__sandbox/faults`)).json()) as { rules: { fired: number }[] };
    expect(rules.rules.map((r) => r.fired)).toEqual([1, 2]);
  });

  it("delays a route and then serves it normally", async () => {
    await sandbox.setFaults([{ path: "/tenant/currentTenant", delayMs: 300, times: 1 }]);
    const started = Date.now();
    const response = await sandbox.fetch("/tenant/currentTenant");
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it("cuts the connection of an upload after the given number of bytes", async () => {
    await sandbox.setFaults([{ method: "POST", path: "/application/applications/*/binaries", reset: true, afterBytes: 256 * 1024, times: 1 }]);
    const cut = await upload(`/application/applications/${appId}/binaries`, 4 * 1024 * 1024);
    expect(cut.status).toBeUndefined();
    expect(cut.error).toMatch(/ECONNRESET|EPIPE|socket hang up/);
    // The rule fired once; the application is unchanged.
    const app = (await (await sandbox.fetch(`/application/applications/${appId}`)).json()) as { activeVersionId?: string };
    expect(app.activeVersionId).toBeUndefined();
  });

  it("cuts a request at once with reset and no afterBytes", async () => {
    await sandbox.setFaults([{ path: "/tenant/currentTenant", reset: true, times: 1 }]);
    await expect(sandbox.fetch("/tenant/currentTenant")).rejects.toThrow();
    expect((await sandbox.fetch("/tenant/currentTenant")).status).toBe(200);
  });

  it("lists the requests it answered", async () => {
    await fetch(`${sandbox.url}/__sandbox/requests`, { method: "DELETE" });
    await sandbox.fetch("/user/currentUser");
    const { requests } = (await (await fetch(`${sandbox.url}/__sandbox/requests`)).json()) as { requests: { method: string; path: string; status: number }[] };
    expect(requests).toEqual([expect.objectContaining({ method: "GET", path: "/user/currentUser", status: 200 })]);
  });

  it("refuses malformed rules with 400", async () => {
    const response = await fetch(`${sandbox.url}/__sandbox/faults`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ rules: [{ path: "no-slash", status: 500 }] }),
    });
    expect(response.status).toBe(400);
  });
});

describe("without --faults", () => {
  it("has no fault endpoint", async () => {
    const plain = await startSandbox();
    try {
      const response = await fetch(`${plain.url}/__sandbox/faults`, { method: "PUT", body: JSON.stringify({ rules: [] }) });
      expect(response.status).toBe(404);
    } finally {
      await plain.stop();
    }
  });
});

/** A sandbox with a small --upload-limit and an application to upload to. */
async function limitedSandbox(limit: number): Promise<{ limited: SandboxHandle; id: string }> {
  const limited = await startSandbox({ args: ["--upload-limit", String(limit)] });
  const created = await limited.fetch("/application/applications", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "big", key: "big", type: "MICROSERVICE" }),
  });
  return { limited, id: ((await created.json()) as { id: string }).id };
}

/** Starts an upload with `headers`, lets `send` write (and maybe never end) the body, and waits for the answer. */
function limitedUpload(
  limited: SandboxHandle,
  id: string,
  headers: Record<string, string>,
  send: (req: ClientRequest) => void,
): Promise<{ status?: number; body?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request(`${limited.url}/application/applications/${id}/binaries`, {
      method: "POST",
      headers: { authorization: basicAuth(limited.admin), "content-type": "multipart/form-data; boundary=x", ...headers },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d) => (body += String(d)));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", (error) => resolve({ error: error.message }));
    send(req);
  });
}

describe("upload limits and framing (platform.md §2, §3.3 #7)", () => {
  it("answers 413 at once when the declared size is over the limit, without reading the body", async () => {
    const { limited, id } = await limitedSandbox(1_000_000);
    try {
      expect(limited.ready.uploadLimit).toBe(1_000_000);
      const result = await limitedUpload(limited, id, { "content-length": String(50_000_000) }, (req) => req.write(Buffer.alloc(1024)));
      expect(result.status).toBe(413);
      expect(JSON.parse(result.body ?? "{}").message).toBe("The uploaded file is larger than the limit of 1000000 bytes.");
    } finally {
      await limited.stop();
    }
  });

  it("answers 413 while streaming when an upload without Content-Length passes the limit", async () => {
    const { limited, id } = await limitedSandbox(1_048_576);
    try {
      const result = await limitedUpload(limited, id, { "transfer-encoding": "chunked" }, (req) => {
        req.write('--x\r\nContent-Disposition: form-data; name="file"; filename="big.zip"\r\nContent-Type: application/zip\r\n\r\n');
        // 2 MB in 64 kB pieces, never ended: the answer must come from the limit alone.
        let written = 0;
        const pump = () => {
          while (written < 2 * 1024 * 1024) {
            written += 65536;
            if (!req.write(Buffer.alloc(65536, 2))) return void req.once("drain", pump);
          }
        };
        pump();
      });
      expect(result.status).toBe(413);
      expect(JSON.parse(result.body ?? "{}")).toMatchObject({ message: "The uploaded file is larger than the limit of 1 MB." });
    } finally {
      await limited.stop();
    }
  });

  it("answers 415 for an upload that is not multipart, and 400 for a multipart body without a file", async () => {
    const raw = await sandbox.fetch(`/application/applications/${appId}/binaries`, { method: "POST", headers: { "content-type": "application/zip" }, body: "PK" });
    expect(raw.status).toBe(415);
    const form = new FormData();
    form.append("note", "no file here");
    const noFile = await sandbox.fetch(`/application/applications/${appId}/binaries`, { method: "POST", body: form });
    expect(noFile.status).toBe(400);
    expect(((await noFile.json()) as { message: string }).message).toContain("no file part");
  });

  it("refuses uploads by the read-only user with 403", async () => {
    const form = new FormData();
    form.append("file", new Blob([Buffer.from("PK")]), "x.zip");
    const response = await sandbox.fetch(`/application/applications/${appId}/binaries`, { method: "POST", as: "reader", body: form });
    expect(response.status).toBe(403);
  });
});
