import { IapTunnelError } from './errors.js';

export const DEFAULT_RELAY_URL = 'wss://tunnel.cloudproxy.app/v4';

export interface IapTunnelOptions {
  project: string;
  zone: string;
  instance: string;
  /** The instance's port to reach, e.g. 2222 for the workspace agent. */
  port: number;
  /** Network interface of the instance; `nic0` unless it has several. */
  interface?: string;
  /** An OAuth access token for the caller; called again for every (re)connection. */
  getToken: () => Promise<string>;
  /** The relay's base URL; `ws://127.0.0.1:N` for a local fake. Default: Google's relay. */
  relayUrl?: string;
  /** Bytes sent but not yet acknowledged by the relay before writes wait (default 1 MiB). */
  maxUnackedBytes?: number;
  /** How long to keep trying to resume a dropped session (default 60 s). */
  reconnectTimeoutMs?: number;
  /** Time allowed for the WebSocket handshake plus the relay's first frame (default 30 s). */
  connectTimeoutMs?: number;
  /** Skip TLS verification of the relay (only for local fakes with self-signed certificates). */
  insecureSkipVerify?: boolean;
}

export type ResolvedTunnelOptions = Required<Omit<IapTunnelOptions, 'insecureSkipVerify'>> & {
  insecureSkipVerify: boolean;
};

function invalid(field: string, why: string): IapTunnelError {
  return new IapTunnelError(`IAP tunnel: invalid option "${field}": ${why}`, undefined);
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw invalid(field, 'a non-empty string is required');
  return value;
}

function positive(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(field, 'a positive number is required');
  }
  return value;
}

export function resolveOptions(opts: IapTunnelOptions): ResolvedTunnelOptions {
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
    throw invalid('port', `${String(opts.port)} is not an integer from 1 to 65535`);
  }
  if (typeof opts.getToken !== 'function')
    throw invalid('getToken', 'an async function is required');
  const relayUrl = opts.relayUrl ?? DEFAULT_RELAY_URL;
  let parsed: URL;
  try {
    parsed = new URL(relayUrl);
  } catch {
    throw invalid('relayUrl', `${relayUrl} is not a URL`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw invalid('relayUrl', 'the scheme must be ws: or wss:');
  }
  return {
    project: text(opts.project, 'project'),
    zone: text(opts.zone, 'zone'),
    instance: text(opts.instance, 'instance'),
    port: opts.port,
    interface: opts.interface === undefined ? 'nic0' : text(opts.interface, 'interface'),
    getToken: opts.getToken,
    relayUrl,
    maxUnackedBytes: positive(opts.maxUnackedBytes, 'maxUnackedBytes', 1024 * 1024),
    reconnectTimeoutMs: positive(opts.reconnectTimeoutMs, 'reconnectTimeoutMs', 60_000),
    connectTimeoutMs: positive(opts.connectTimeoutMs, 'connectTimeoutMs', 30_000),
    insecureSkipVerify: opts.insecureSkipVerify ?? false,
  };
}

/** Like gcloud's `--iap-tunnel-url-override`: a base URL without a path gets `/v4`. */
function endpoint(relayUrl: string, name: 'connect' | 'reconnect'): URL {
  const url = new URL(relayUrl);
  const root =
    url.pathname === '' || url.pathname === '/' ? '/v4' : url.pathname.replace(/\/$/, '');
  url.pathname = `${root}/${name}`;
  url.search = '';
  return url;
}

export function connectUrl(o: ResolvedTunnelOptions): string {
  const url = endpoint(o.relayUrl, 'connect');
  url.searchParams.set('project', o.project);
  url.searchParams.set('zone', o.zone);
  url.searchParams.set('instance', o.instance);
  url.searchParams.set('interface', o.interface);
  url.searchParams.set('port', String(o.port));
  url.searchParams.set('newWebsocket', 'True');
  return url.toString();
}

export function reconnectUrl(o: ResolvedTunnelOptions, sid: string, bytesReceived: number): string {
  const url = endpoint(o.relayUrl, 'reconnect');
  url.searchParams.set('sid', sid);
  url.searchParams.set('ack', String(bytesReceived));
  url.searchParams.set('zone', o.zone);
  url.searchParams.set('newWebsocket', 'True');
  return url.toString();
}
