import { execa } from "execa";
import { readFile, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";

export interface Certificates {
  /** PEM of the private CA, for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  cert: Buffer;
  key: Buffer;
}

/**
 * A private CA and a server certificate for 127.0.0.1 and localhost signed by it, made with
 * the openssl CLI like an operator would: what a platform behind a corporate CA looks like.
 */
export async function makeCertificates(dir: string): Promise<Certificates> {
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execa("openssl", args, { cwd: dir });
  await openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=c8y-ms test CA", "-keyout", at("ca.key"), "-out", at("ca.pem"), "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  await openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", at("server.key"), "-out", at("server.csr"));
  await writeFile(at("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  await openssl("x509", "-req", "-in", at("server.csr"), "-CA", at("ca.pem"), "-CAkey", at("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", at("server.ext"), "-out", at("server.pem"));
  return { caFile: at("ca.pem"), cert: await readFile(at("server.pem")), key: await readFile(at("server.key")) };
}

export interface TlsFront {
  url: string;
  stop(): Promise<void>;
}

/** HTTPS on 127.0.0.1 in front of `target` (the sandbox's http URL), streaming both ways. */
export async function startTlsFront(target: string, certificates: Certificates): Promise<TlsFront> {
  const upstreamUrl = new URL(target);
  const sockets = new Set<Socket>();
  const server: Server = createServer({ cert: certificates.cert, key: certificates.key }, (req, res) => {
    const upstream = httpRequest(
      { host: upstreamUrl.hostname, port: upstreamUrl.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstreamUrl.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
