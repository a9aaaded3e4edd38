import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";

/** What the proxy forwarded: `CONNECT host:port` for tunnels, `GET http://...` for plain requests. */
export interface ProxiedRequest {
  method: string;
  target: string;
  /** Whether the client sent the expected Proxy-Authorization. */
  authorized: boolean;
}

export interface HttpProxy {
  url: string;
  /** The proxy URL with user and password in it, when started with `auth`. */
  authUrl: string;
  requests: ProxiedRequest[];
  stop(): Promise<void>;
}

/**
 * A small forward proxy on 127.0.0.1 like a corporate one: CONNECT tunnels (what undici's
 * proxy agent uses) and absolute-form HTTP requests, optional Basic proxy authentication
 * (407 without it), and a record of everything it forwarded. Only loopback targets are allowed.
 */
export async function startHttpProxy(options: { auth?: { user: string; password: string } } = {}): Promise<HttpProxy> {
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const expected = options.auth ? `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString("base64")}` : undefined;
  const authorized = (req: IncomingMessage) => expected === undefined || req.headers["proxy-authorization"] === expected;

  const server: Server = createServer((req, res) => {
    const ok = authorized(req);
    requests.push({ method: req.method ?? "GET", target: req.url ?? "", authorized: ok });
    if (!ok) return void res.writeHead(407, { "proxy-authenticate": 'Basic realm="test"' }).end();
    const target = new URL(req.url ?? "");
    if (target.hostname !== "127.0.0.1") return void res.writeHead(403).end("loopback only");
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    const upstream = httpRequest(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    const ok = authorized(req);
    requests.push({ method: "CONNECT", target: req.url ?? "", authorized: ok });
    if (!ok) return void client.end("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n\r\n");
    const [host = "", port = "0"] = (req.url ?? "").split(":");
    if (host !== "127.0.0.1") return void client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
    const upstream = connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    const close = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on("error", close);
    client.on("error", close);
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const authUrl = options.auth ? `http://${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.password)}@127.0.0.1:${port}` : url;
  return {
    url,
    authUrl,
    requests,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
