import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { deleteOrphan, HubError } from '@workspace-hub/core';
import { z } from 'zod';
import type { HubDeps } from '../deps.js';
import type { HubEnv } from '../env.js';
import { json, problemResponses } from './schemas.js';

const OrphanPath = z.object({
  zone: z.string().regex(/^[a-z][-a-z0-9]{0,62}$/),
  instance: z.string().regex(/^[a-z][-a-z0-9]{0,62}$/),
});

const deleteOrphanRoute = createRoute({
  method: 'delete',
  path: '/admin/orphans/{zone}/{instance}',
  tags: ['operations'],
  security: [{ bearer: [] }],
  summary:
    'Delete a quarantined orphan instance with its disks (admins only; anyone else gets 404)',
  request: { params: OrphanPath },
  responses: {
    202: json(
      z.object({ zone: z.string(), instance: z.string(), operation: z.string().nullable() }),
      'Deletion started',
    ),
    ...problemResponses,
  },
});

/** What only admins may do; to anyone else these routes do not exist. */
export function registerAdminRoutes(app: OpenAPIHono<HubEnv>, deps: HubDeps): void {
  app.openapi(deleteOrphanRoute, async (c) => {
    if (!c.get('identity').admin)
      throw new HubError('not_found', `no route for ${c.req.method} ${c.req.path}`);
    const { zone, instance } = c.req.valid('param');
    const op = await deleteOrphan(deps, zone, instance);
    c.get('log').info('orphan deleted by admin', {
      by: c.get('identity').email,
      zone,
      instance,
    });
    return c.json({ zone, instance, operation: op?.name ?? null }, 202);
  });
}
