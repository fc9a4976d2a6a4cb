import type { MiddlewareHandler } from 'hono';

/**
 * A request whose body is empty loses its `Content-Type`: many clients label
 * a body-less POST `application/json`, and for a route whose body is optional
 * that means "no body", not malformed JSON. The body is read here (Hono keeps
 * it for the route's validator, within the body limit already in place); a
 * non-empty body is left as it came, so one of another type is still 415.
 */
export const emptyBodyIsNoBody: MiddlewareHandler = async (c, next) => {
  if (c.req.header('content-type') !== undefined && (await c.req.text()) === '') {
    const headers = new Headers(c.req.raw.headers);
    headers.delete('content-type');
    c.req.raw = new Request(c.req.raw.url, { method: c.req.method, headers });
  }
  await next();
};
