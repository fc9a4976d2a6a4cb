import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { deleteOrphan, HubError, listOrphans } from '@workspace-hub/core';
import type { Context } from 'hono';
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

const OrphanListing = z.object({
  instances: z.array(
    z.object({
      zone: z.string(),
      name: z.string(),
      first_seen: z
        .string()
        .nullable()
        .describe('When a cleanup sweep first saw it without a document; null: not yet'),
      quarantined: z.boolean(),
    }),
  ),
  homes: z
    .array(z.object({ name: z.string(), path: z.string() }))
    .describe(
      'Home folders no instance describes (local mode: under HUB_DATA_DIR/workspaces without instance.json); kept, never deleted by the hub',
    ),
});

const listOrphansRoute = createRoute({
  method: 'get',
  path: '/admin/orphans',
  tags: ['operations'],
  security: [{ bearer: [] }],
  summary:
    'Instances without a workspace document and homes without an instance (admins only; anyone else gets 404)',
  responses: { 200: json(OrphanListing, 'What no workspace accounts for'), ...problemResponses },
});

/** To anyone but an admin these routes do not exist. */
function adminsOnly(c: Context<HubEnv>): void {
  if (!c.get('identity').admin)
    throw new HubError('not_found', `no route for ${c.req.method} ${c.req.path}`);
}

/** What only admins may do; to anyone else these routes do not exist. */
export function registerAdminRoutes(app: OpenAPIHono<HubEnv>, deps: HubDeps): void {
  app.openapi(listOrphansRoute, async (c) => {
    adminsOnly(c);
    return c.json(await listOrphans(deps, deps.config.zones), 200);
  });

  app.openapi(deleteOrphanRoute, async (c) => {
    adminsOnly(c);
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
