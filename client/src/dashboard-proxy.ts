import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TokenProvider } from './sdk/auth.js';

export interface DashboardProxy {
  /** What the user opens: `http://127.0.0.1:PORT/`. */
  url: string;
  close(): Promise<void>;
}

/** Connection-scoped headers (RFC 9110 §7.6.1), never forwarded; upgrades set their own. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Any web page the user visits can send requests to a loopback port, and this proxy adds the
 * user's credential to each: only the page it serves may use it. A request must name the
 * proxy as its Host (a rebound DNS name does not); a state-changing one or a WebSocket must
 * come from the proxy's own origin; a cross-site fetch is refused (a navigation is fine).
 */
function refusal(req: IncomingMessage, origin: string): string | null {
  const host = req.headers.host ?? '';
  const port = new URL(origin).port;
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`)
    return `Host ${host}: open ${origin}/`;
  const own = (o: string | undefined) =>
    o === origin || o === origin.replace('127.0.0.1', 'localhost');
  const isSafe = req.method === 'GET' || req.method === 'HEAD';
  const upgrade = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
  if ((!isSafe || upgrade) && !own(req.headers.origin))
    return `Origin ${req.headers.origin ?? '(none)'} may not use this proxy`;
  const site = req.headers['sec-fetch-site'];
  if (
    site &&
    site !== 'same-origin' &&
    site !== 'none' &&
    req.headers['sec-fetch-mode'] !== 'navigate'
  )
    return 'a cross-site request may not use this proxy';
  return null;
}

/**
 * `wsh dashboard`: the hub's web page on a loopback port, every request (WebSocket upgrades
 * included) sent on to the hub with the user's credential in `Authorization`. Behind Cloud
 * Run's invoker check (HUB_AUTH=cloud-run-iam) a browser cannot attach an ID token to a
 * navigation; this does it, as `gcloud run services proxy` does.
 */
export async function startDashboardProxy(opts: {
  hubUrl: string;
  token: TokenProvider;
  port?: number;
}): Promise<DashboardProxy> {
  const hub = new URL(opts.hubUrl);
  const send = hub.protocol === 'https:' ? httpsRequest : httpRequest;
  let origin = '';

  const upstreamHeaders = async (req: IncomingMessage): Promise<IncomingHttpHeaders> => {
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers))
      if (!HOP_BY_HOP.has(name)) headers[name] = value;
    headers.host = hub.host;
    // The hub accepts a WebSocket only from its own origin: to it, the page is on the hub.
    if (headers.origin) headers.origin = hub.origin;
    headers.authorization = `Bearer ${await opts.token()}`;
    return headers;
  };

  const server: Server = createServer(async (req, res) => {
    const refused = refusal(req, origin);
    if (refused) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end(`${refused}\n`);
      return;
    }
    let headers: IncomingHttpHeaders;
    try {
      headers = await upstreamHeaders(req);
    } catch (err) {
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`wsh dashboard: ${err instanceof Error ? err.message : String(err)}\n`);
      return;
    }
    const upstream = send(
      { hostname: hub.hostname, port: hub.port, path: req.url, method: req.method, headers },
      (answer) => {
        const back: IncomingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers))
          if (!HOP_BY_HOP.has(name)) back[name] = value;
        res.writeHead(answer.statusCode ?? 502, back);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('wsh dashboard: the hub cannot be reached\n');
    });
    req.pipe(upstream);
  });

  server.on('upgrade', async (req: IncomingMessage, client: Socket, head: Buffer) => {
    client.on('error', () => client.destroy());
    const refused = refusal(req, origin);
    if (refused) {
      client.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n\r\n${refused}\n`);
      return;
    }
    let headers: IncomingHttpHeaders;
    try {
      headers = await upstreamHeaders(req);
    } catch {
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    headers.connection = 'Upgrade';
    headers.upgrade = req.headers.upgrade;
    const upstream = send({
      hostname: hub.hostname,
      port: hub.port,
      path: req.url,
      method: req.method,
      headers,
    });
    upstream.on('upgrade', (answer, socket, upstreamHead) => {
      socket.on('error', () => client.destroy());
      client.on('close', () => socket.destroy());
      socket.on('close', () => client.destroy());
      const lines = [`HTTP/1.1 ${answer.statusCode} ${answer.statusMessage}`];
      for (let i = 0; i < answer.rawHeaders.length; i += 2)
        lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
      client.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (upstreamHead.length) client.write(upstreamHead);
      if (head.length) socket.write(head);
      socket.pipe(client);
      client.pipe(socket);
    });
    // The hub refused the upgrade: its status and body go back, then the connection ends.
    upstream.on('response', (answer) => {
      const lines = [`HTTP/1.1 ${answer.statusCode} ${answer.statusMessage}`, 'connection: close'];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) {
        const name = answer.rawHeaders[i]!;
        if (!/^(transfer-encoding|content-length|connection)$/i.test(name))
          lines.push(`${name}: ${answer.rawHeaders[i + 1]}`);
      }
      client.write(`${lines.join('\r\n')}\r\n\r\n`);
      answer.pipe(client);
    });
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    upstream.end();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
