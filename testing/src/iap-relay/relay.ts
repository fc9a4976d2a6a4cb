import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { connectSuccessFrame, RELAY_SUBPROTOCOL } from './frames.js';
import { selfSignedLoopbackCert } from './self-signed.js';
import { RelaySession } from './session.js';

export interface IapRelayTarget {
  project: string;
  zone: string;
  instance: string;
  interface: string;
  port: number;
}

export interface IapRelayOptions {
  /** The bearer token the relay accepts (change it later with `setToken`). */
  token: string;
  /** Where a tunnel goes; default `127.0.0.1:<port>`. Return undefined for "no such instance" (4047). */
  resolveTarget?: (target: IapRelayTarget) => { host: string; port: number } | undefined;
  /** Unacknowledged bytes toward the client before the relay stops reading the backend (default 1 MiB). */
  windowBytes?: number;
  /** How long a dropped session waits for a reconnect (default 30 s). */
  resumeWindowMs?: number;
  /** Serve wss:// with a throwaway self-signed certificate (gcloud only speaks wss://). */
  tls?: boolean;
}

/** What the relay saw of one upgrade request (never the token). */
export interface IapRelayRequest {
  path: string;
  query: Record<string, string>;
  origin: string | undefined;
  /** The client's User-Agent (gcloud sends one; so does `wsh`). */
  userAgent: string | undefined;
  subprotocols: string[];
  outcome: 'accepted' | `http ${number}` | `close ${number}`;
}

export interface IapRelay {
  /** Base URL for clients: `ws://127.0.0.1:PORT` or `wss://…` (the client adds `/v4/...`). */
  url: string;
  port: number;
  requests: IapRelayRequest[];
  sessionCount(): number;
  /** Per-session byte counters, for diagnosing a stuck transfer. */
  sessionStats(): ReturnType<RelaySession['stats']>[];
  /** Accept a different token from now on (e.g. after a forced re-authentication). */
  setToken(token: string): void;
  /** Answer every upgrade with HTTP 401, as the relay does for a bad or expired token. */
  refuseAuth(refuse: boolean): void;
  /** Close every new connection right after the upgrade with this code, e.g. 4033; undefined to stop. */
  failConnectsWith(code: number | undefined, reason?: string): void;
  /** Break every live WebSocket without a close frame, as a network failure would. */
  dropAll(): void;
  /**
   * Once this many more payload bytes have been relayed, break every live
   * WebSocket, or close it with `closeCode` (e.g. 4004) when given.
   */
  dropAfter(bytes: number, closeCode?: number): void;
  /** Close every live WebSocket with this code (e.g. 4004: the client must re-authenticate). */
  closeAll(code: number, reason?: string): void;
  close(): Promise<void>;
}

/**
 * The backend is read into one reused buffer per session, up to this much at a time (net's
 * default reads at most 64 KiB into a fresh buffer each time): fewer reads and socket writes
 * per MB downloaded. Each read is sized by the session's window (`nextReadBytes`), so the
 * window is overrun by at most 64 KiB as before; the session copies each read at once.
 */
const BACKEND_READ_BYTES = 256 * 1024;

const REQUIRED_CONNECT = [
  'project',
  'zone',
  'instance',
  'interface',
  'port',
  'newWebsocket',
] as const;

/** A local stand-in for tunnel.cloudproxy.app: the relay protocol's server side, to local TCP ports. */
export async function startIapRelay(opts: IapRelayOptions): Promise<IapRelay> {
  let token = opts.token;
  let refusing = false;
  let failure: { code: number; reason: string } | undefined;
  let relayed = 0;
  let dropAt: number | undefined;
  let dropCode: number | undefined;
  const sessions = new Map<string, RelaySession>();
  const requests: IapRelayRequest[] = [];
  const windowBytes = opts.windowBytes ?? 1024 * 1024;
  const resumeWindowMs = opts.resumeWindowMs ?? 30_000;

  const dropAll = () => {
    for (const s of sessions.values()) s.drop();
  };
  const closeAll = (code: number, reason = '') => {
    for (const s of sessions.values()) s.ws?.close(code, reason);
  };
  const countBytes = (n: number) => {
    relayed += n;
    if (dropAt !== undefined && relayed >= dropAt) {
      dropAt = undefined;
      // After the current frame is handled, so the drop lands mid-transfer, not mid-callback.
      const code = dropCode;
      setImmediate(() => (code === undefined ? dropAll() : closeAll(code, 'closed by the test')));
    }
  };

  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(RELAY_SUBPROTOCOL) ? RELAY_SUBPROTOCOL : false),
  });
  const answerPlainHttp = (_req: IncomingMessage, res: ServerResponse) => res.writeHead(426).end();
  const http = opts.tls
    ? createTlsServer(selfSignedLoopbackCert(), answerPlainHttp)
    : createServer(answerPlainHttp);

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://relay');
    const record: IapRelayRequest = {
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      origin: req.headers.origin,
      userAgent: req.headers['user-agent'],
      subprotocols: (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()),
      outcome: 'accepted',
    };
    requests.push(record);
    const refuse = (status: number, text: string) => {
      record.outcome = `http ${status}`;
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const isConnect = url.pathname === '/v4/connect';
    if (!isConnect && url.pathname !== '/v4/reconnect') return refuse(404, 'Not Found');
    if (!record.subprotocols.includes(RELAY_SUBPROTOCOL)) return refuse(400, 'Bad Request');
    if (record.origin !== 'bot:iap-tunneler') return refuse(403, 'Forbidden');
    if (refusing || req.headers.authorization !== `Bearer ${token}`)
      return refuse(401, 'Unauthorized');
    const q = record.query;
    const missing = isConnect
      ? REQUIRED_CONNECT.filter((k) => !q[k])
      : (['sid', 'ack', 'zone'] as const).filter((k) => !q[k]);
    if (missing.length > 0 || (isConnect && !/^\d+$/.test(q.port!)))
      return refuse(400, 'Bad Request');

    wss.handleUpgrade(req, socket, head, (ws) => {
      const closeWith = (code: number, reason: string) => {
        record.outcome = `close ${code}`;
        ws.close(code, reason);
      };
      if (failure) return closeWith(failure.code, failure.reason);
      if (!isConnect) {
        const session = sessions.get(q.sid!);
        const ack = Number(q.ack);
        if (!session) return closeWith(4000, 'unknown session');
        if (!session.canResumeFrom(ack)) return closeWith(4000, 'invalid ack');
        session.attach(ws, session.reconnectFrame(), ack);
        return;
      }
      const target: IapRelayTarget = {
        project: q.project!,
        zone: q.zone!,
        instance: q.instance!,
        interface: q.interface!,
        port: Number(q.port),
      };
      const dest = opts.resolveTarget
        ? opts.resolveTarget(target)
        : { host: '127.0.0.1', port: target.port };
      if (!dest) return closeWith(4047, 'instance not found');
      let session: RelaySession | undefined;
      const readBuffer = Buffer.allocUnsafe(BACKEND_READ_BYTES);
      const backend = connect({
        port: dest.port,
        host: dest.host,
        onread: {
          buffer: () => readBuffer.subarray(0, session?.nextReadBytes(BACKEND_READ_BYTES) ?? 65536),
          callback: (n: number, buf: Uint8Array) => {
            session?.fromBackend(Buffer.from(buf.buffer, buf.byteOffset, n));
            return true;
          },
        },
      });
      backend.once('error', () => closeWith(4003, 'failed to connect to backend'));
      backend.once('connect', () => {
        backend.removeAllListeners('error');
        if (ws.readyState !== ws.OPEN) {
          backend.destroy();
          return;
        }
        const sid = randomBytes(16).toString('hex');
        session = new RelaySession(sid, backend, windowBytes, resumeWindowMs, countBytes, (s) =>
          sessions.delete(s.sid),
        );
        sessions.set(sid, session);
        session.attach(ws, connectSuccessFrame(sid));
      });
    });
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `${opts.tls ? 'wss' : 'ws'}://127.0.0.1:${port}`,
    port,
    requests,
    sessionCount: () => sessions.size,
    sessionStats: () => [...sessions.values()].map((s) => s.stats()),
    setToken: (t) => {
      token = t;
    },
    refuseAuth: (r) => {
      refusing = r;
    },
    failConnectsWith: (code, reason = '') => {
      failure = code === undefined ? undefined : { code, reason };
    },
    dropAll,
    dropAfter: (bytes, closeCode) => {
      dropAt = relayed + bytes;
      dropCode = closeCode;
    },
    closeAll,
    close: async () => {
      for (const s of [...sessions.values()]) s.finish();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
