import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { checkInvoker, type InvokerPolicy, stripSignature } from './invoker.js';

export interface CloudRunFrontDoorOptions {
  /** Service name: `K_SERVICE` of the container. */
  service?: string;
  /**
   * The service's URLs (`https://NAME-NUMBER.REGION.run.app`): accepted audiences, and the
   * first is the `Host` the container sees.
   */
  serviceUrls: readonly string[];
  /** The service's custom audiences (also accepted). */
  customAudiences?: readonly string[];
  /** Members of roles/run.invoker on the service (`allUsers` turns the check off). */
  invokers: readonly string[];
  /** Google's ID-token keys: a test signer's `certs`. */
  certs: Record<string, string> | (() => Promise<Record<string, string>>);
  /** Request timeout in seconds (Cloud Run: default 300, at most 3600). */
  timeoutSeconds?: number;
  /** The container's port (its `PORT`); a free one when omitted. */
  containerPort?: number;
}

/** One request as the front door handled it (tests read what Cloud Run would have done). */
export interface FrontDoorExchange {
  method: string;
  path: string;
  status: number;
  /** The principal the invoker check admitted, or why it refused. */
  principal: string | null;
  refused?: string;
}

export interface CloudRunFrontDoor {
  /** Where clients send requests (stands in for the service URL). */
  url: string;
  /** The environment Cloud Run gives the container: `PORT`, `K_SERVICE`, `K_REVISION`, `K_CONFIGURATION`. */
  containerEnv: Record<'PORT' | 'K_SERVICE' | 'K_REVISION' | 'K_CONFIGURATION', string>;
  exchanges: FrontDoorExchange[];
  close(): Promise<void>;
}

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

function bearer(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v?.match(/^Bearer\s+(\S+)$/i)?.[1];
}

/** Google's front end answers refusals with a small HTML page, not JSON. */
function refuse(res: ServerResponse, status: 401 | 403 | 504, text: string) {
  const headers: Record<string, string> = { 'content-type': 'text/html; charset=UTF-8' };
  if (status === 401)
    headers['www-authenticate'] =
      'Bearer error="invalid_token" error_description="The access token could not be verified"';
  const title = { 401: 'Unauthorized', 403: 'Forbidden', 504: 'Gateway Timeout' }[status];
  res
    .writeHead(status, headers)
    .end(`<html><head><title>${status} ${title}</title></head><body><h1>Error: ${title}</h1>
<h2>${text}</h2></body></html>\n`);
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * What Cloud Run does to a request before its container sees it: the IAM
 * invoker check (X-Serverless-Authorization first, else Authorization), the
 * checked token forwarded with its signature replaced by
 * SIGNATURE_REMOVED_BY_GOOGLE, Authorization passed untouched when
 * X-Serverless-Authorization was the one checked, 401/403 refusals, and the
 * request timeout (504). See README.md for the documents it follows.
 */
export async function startCloudRunFrontDoor(
  opts: CloudRunFrontDoorOptions,
): Promise<CloudRunFrontDoor> {
  const service = opts.service ?? 'workspace-hub';
  const timeoutMs = (opts.timeoutSeconds ?? 300) * 1000;
  if (!(timeoutMs > 0 && timeoutMs <= 3_600_000))
    throw new Error('timeoutSeconds must be between 1 and 3600, as Cloud Run allows');
  if (opts.serviceUrls.length === 0) throw new Error('serviceUrls needs the service URL');
  const groups = opts.invokers.filter((m) => m.startsWith('group:'));
  if (groups.length)
    throw new Error(`the front door cannot resolve group members: ${groups.join(', ')}`);
  const certs = opts.certs;
  const policy: InvokerPolicy & { audiences: string[] } = {
    invokers: opts.invokers,
    audiences: [...opts.serviceUrls, ...(opts.customAudiences ?? [])],
    certs: typeof certs === 'function' ? certs : async () => certs,
  };
  const containerPort = opts.containerPort ?? (await freePort());
  const host = new URL(opts.serviceUrls[0]!).host;
  const exchanges: FrontDoorExchange[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const viaServerless = req.headers['x-serverless-authorization'] !== undefined;
    const checked = viaServerless
      ? bearer(req.headers['x-serverless-authorization'])
      : bearer(req.headers.authorization);
    const decision = await checkInvoker(policy, checked);
    if (!decision.allow) {
      exchanges.push({
        method,
        path,
        status: decision.status,
        principal: null,
        refused: decision.reason,
      });
      req.resume();
      return refuse(
        res,
        decision.status,
        decision.status === 401
          ? 'Your client does not have permission to the requested URL.'
          : `Your client does not have permission to get URL <code>${path}</code> from this server.`,
      );
    }
    const headers: IncomingHttpHeaders = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    // Headers Google reserves for itself never come from a client.
    for (const h of Object.keys(headers)) if (h.startsWith('x-google-')) delete headers[h];
    if (checked && decision.principal) {
      const name = viaServerless ? 'x-serverless-authorization' : 'authorization';
      headers[name] = `Bearer ${stripSignature(checked)}`;
    }
    headers.host = host;
    headers['x-forwarded-proto'] = 'https';
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '127.0.0.1';
    headers['x-cloud-trace-context'] ??= `${randomBytes(16).toString('hex')}/1;o=1`;

    const upstream = request({
      host: '127.0.0.1',
      port: containerPort,
      method,
      path,
      headers,
    });
    const timer = setTimeout(() => {
      // Cloud Run ends the client's request; the container's own work goes on.
      upstream.destroy();
      exchanges.push({ method, path, status: 504, principal: decision.principal });
      if (!res.headersSent) refuse(res, 504, 'upstream request timeout');
      else res.destroy();
    }, timeoutMs);
    upstream.on('response', (up) => {
      const out = { ...up.headers };
      for (const h of HOP_BY_HOP) delete out[h];
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
      up.on('end', () => {
        clearTimeout(timer);
        exchanges.push({
          method,
          path,
          status: up.statusCode ?? 502,
          principal: decision.principal,
        });
      });
    });
    upstream.on('error', () => {
      clearTimeout(timer);
      if (res.headersSent || res.destroyed) return void res.destroy();
      // Nothing listening yet: Cloud Run would still be starting the instance; answer as its front end does.
      exchanges.push({ method, path, status: 503, principal: decision.principal });
      res
        .writeHead(503, { 'content-type': 'text/html; charset=UTF-8' })
        .end('Service Unavailable\n');
    });
    req.pipe(upstream);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  // The front door stands in for the service URL, so tokens minted for it pass too.
  policy.audiences.push(url);
  return {
    url,
    containerEnv: {
      PORT: String(containerPort),
      K_SERVICE: service,
      K_REVISION: `${service}-00001-abc`,
      K_CONFIGURATION: service,
    },
    exchanges,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
