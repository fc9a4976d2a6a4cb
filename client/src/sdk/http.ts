import type { IncomingMessage } from 'node:http';

/** What the client reads of an HTTP answer (a fetch `Response` is one too). */
export interface HttpAnswer {
  ok: boolean;
  status: number;
  statusText: string;
  text(): Promise<string>;
}

export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** Sends one request and reads its whole answer; rejects when no answer comes. */
export type HttpTransport = (url: URL, req: HttpRequest) => Promise<HttpAnswer>;

/**
 * One request with Node's `http`/`https`. Not `fetch`: Node 20 loads fetch's undici and
 * compiles its WebAssembly HTTP parser on first use, 130 ms of CPU, which was the largest part
 * of a `wsh ls`. Errors carry the socket's `code` (ECONNREFUSED, ENOTFOUND…).
 */
export const nodeHttp: HttpTransport = async (url, req) => {
  const { request } =
    url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.from(req.body);
    const headers = body ? { ...req.headers, 'content-length': String(body.length) } : req.headers;
    request(url, { method: req.method, headers }, resolve).on('error', reject).end(body);
  });
  const chunks: Buffer[] = [];
  const whole = new Promise<string>((resolve, reject) => {
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
  // Read at once, so an answer nobody reads (a 204) does not hold its socket.
  whole.catch(() => {});
  const status = res.statusCode ?? 0;
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: res.statusMessage ?? '',
    text: () => whole,
  };
};
