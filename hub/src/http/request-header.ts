import type { Context } from 'hono';
import type { HubEnv } from '../env.js';

/**
 * A request header, read from Node's own request when the server passed it. `c.req.header()`
 * makes @hono/node-server build the full web Request (an AbortController, undici's Request and
 * Headers): about half of what a `/health` probe cost. Node lower-cases the names and joins a
 * repeated header with ", ", as `Headers.get` does.
 */
export function requestHeader(c: Context<HubEnv>, name: string): string | undefined {
  const headers = c.env?.incoming?.headers;
  if (!headers) return c.req.header(name);
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}
