import type { OpenAPIHono } from '@hono/zod-openapi';
import { HubError, TERMINAL_SUBPROTOCOL } from '@workspace-hub/core';
import type { HubDeps } from '../deps.js';
import type { HubEnv } from '../env.js';
import { validationError } from '../http/problem.js';
import { loadVisible } from '../routes/access.js';
import { IdParams, problemResponses } from '../routes/schemas.js';
import { isSameOrigin } from './same-origin.js';
import { pendingUpgrade } from './upgrade-grants.js';

export const TERMINAL_PATH = /^\/workspaces\/[^/]+\/terminal$/;

/**
 * `GET /workspaces/:id/terminal`: decides an upgrade the upgrade handler (terminal-upgrade.ts)
 * passed through the app, after the app's authentication. Refusals are the API's problems; an
 * accepted upgrade is answered 204 here, which the handler turns into the WebSocket.
 */
export function registerTerminalRoute(app: OpenAPIHono<HubEnv>, deps: HubDeps): void {
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/workspaces/{id}/terminal',
    tags: ['terminal'],
    security: [{ bearer: [] }],
    summary:
      'The browser terminal: a WebSocket upgrade (subprotocol wsh.terminal.v1, same-origin Origin; messages in docs/ARCHITECTURE.md)',
    request: { params: IdParams },
    responses: {
      101: { description: 'Switching to the WebSocket' },
      ...problemResponses,
    },
  });
  app.get('/workspaces/:id/terminal', async (c) => {
    const grant = pendingUpgrade(c.req.raw);
    if (!grant)
      throw new HubError('invalid_argument', 'upgrade: this route is a WebSocket', {
        field: 'upgrade',
      });
    const params = IdParams.safeParse(c.req.param());
    if (!params.success) throw validationError(params.error, 'param');
    const offered = (c.req.header('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(TERMINAL_SUBPROTOCOL))
      throw new HubError(
        'invalid_argument',
        `sec-websocket-protocol: offer ${TERMINAL_SUBPROTOCOL}`,
        { field: 'sec-websocket-protocol' },
      );
    if (!isSameOrigin(c.req.header('origin'), c.req.header('host')))
      throw new HubError('permission_denied', 'origin: must be this hub’s own origin', {
        field: 'origin',
      });
    const identity = c.get('identity');
    const ws = await loadVisible(deps.store, identity, params.data.id);
    grant.accepted = { identity, workspace: ws };
    return c.body(null, 204);
  });
}
