import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { HubEnv } from '../env.js';
import { RequestRefused } from './problem.js';
import { requestHeader } from './request-header.js';

/** The most bytes a request body may have under a path prefix, or on paths a pattern matches. */
export type BodyLimit = ({ prefix: string } | { pattern: RegExp }) & { maxBytes: number };

const applies = (limit: BodyLimit, path: string) =>
  'prefix' in limit ? path.startsWith(limit.prefix) : limit.pattern.test(path);

/**
 * Refuses a body over its route's limit with a 413 before it is parsed: by
 * its Content-Length when it has one, else while it streams in (Hono's
 * `bodyLimit`), so no request makes the hub hold more than the limit.
 */
export function limitBodies(
  limits: readonly BodyLimit[],
  fallbackBytes: number,
): MiddlewareHandler<HubEnv> {
  const make = (maxBytes: number) =>
    bodyLimit({
      maxSize: maxBytes,
      onError: () => {
        throw new RequestRefused('payload_too_large', `body: at most ${maxBytes} bytes`, 'body');
      },
    });
  const rules = limits.map((l) => ({ limit: l, maxBytes: l.maxBytes, check: make(l.maxBytes) }));
  const fallback = { maxBytes: fallbackBytes, check: make(fallbackBytes) };
  return (c, next) => {
    // Hono hands a GET or HEAD handler no body (its Request has none), so there is none to limit.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const rule = rules.find((r) => applies(r.limit, c.req.path)) ?? fallback;
    // A body with a Content-Length is judged by it alone, as `bodyLimit` does, but without
    // asking for `c.req.raw.body`: that starts a web stream reading Node's request, which the
    // upload reads itself (routes/files.ts). Node's parser delivers exactly that many bytes.
    const length = requestHeader(c, 'content-length');
    if (length !== undefined && requestHeader(c, 'transfer-encoding') === undefined) {
      if (Number.parseInt(length, 10) > rule.maxBytes)
        throw new RequestRefused(
          'payload_too_large',
          `body: at most ${rule.maxBytes} bytes`,
          'body',
        );
      return next();
    }
    return rule.check(c, next);
  };
}
