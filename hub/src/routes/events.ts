import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { EventList, HubError, ListEventsQuery } from '@workspace-hub/core';
import type { HubDeps } from '../deps.js';
import type { HubEnv } from '../env.js';
import { loadVisible } from './access.js';
import { IdParams, json, problemResponses } from './schemas.js';

const listEventsRoute = createRoute({
  method: 'get',
  path: '/workspaces/{id}/events',
  tags: ['workspaces'],
  security: [{ bearer: [] }],
  summary:
    'The workspace’s history, newest first: each change of state, who or what made it, and how it ended',
  request: { params: IdParams, query: ListEventsQuery },
  responses: { 200: json(EventList, 'A page of events'), ...problemResponses },
});

export function registerEventRoutes(app: OpenAPIHono<HubEnv>, deps: HubDeps): void {
  app.openapi(listEventsRoute, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    // The owner's and admins' only: anyone else's is a 404, as for the workspace itself.
    const ws = await loadVisible(deps.store, c.get('identity'), id);
    const events = deps.store.events;
    if (!events) throw new HubError('internal', 'this hub records no events');
    const page = await events.list(ws.id, {
      limit: q.limit,
      pageToken: q.page_token,
      now: deps.now(),
    });
    return c.json({ events: page.events, next_page_token: page.nextPageToken }, 200);
  });
}
