import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import {
  HubError,
  KEY_NAME_PATTERN,
  Me,
  PutKeyBody,
  PutSyncBody,
  SshKey,
  SYNC_NAME_PATTERN,
  SyncBlob,
} from '@workspace-hub/core';
import { z } from 'zod';
import type { HubDeps } from '../deps.js';
import type { HubEnv } from '../env.js';
import { json, problemResponses } from './schemas.js';

const KeyParams = z.object({
  name: z.string().regex(KEY_NAME_PATTERN, 'letters, digits, dot, dash, underscore; 1-64'),
});

const SyncParams = z.object({
  name: z.string().regex(SYNC_NAME_PATTERN, 'letters, digits, dot, dash, underscore; 1-128'),
});

const tags = ['me'];
const security = [{ bearer: [] }];

const routes = {
  me: createRoute({
    method: 'get',
    path: '/me',
    tags,
    security,
    summary: 'Who you are to this hub, and whether you are an admin',
    responses: { 200: json(Me, 'Your identity'), ...problemResponses },
  }),
  listKeys: createRoute({
    method: 'get',
    path: '/me/keys',
    tags,
    security,
    summary: 'Your SSH public keys, one per device',
    responses: { 200: json(z.object({ keys: z.array(SshKey) }), 'Your keys'), ...problemResponses },
  }),
  getKey: createRoute({
    method: 'get',
    path: '/me/keys/{name}',
    tags,
    security,
    summary: 'One of your SSH keys',
    request: { params: KeyParams },
    responses: { 200: json(SshKey, 'The key'), ...problemResponses },
  }),
  putKey: createRoute({
    method: 'put',
    path: '/me/keys/{name}',
    tags,
    security,
    summary: 'Register (or replace) the SSH key of a device',
    request: {
      params: KeyParams,
      body: { content: { 'application/json': { schema: PutKeyBody } }, required: true },
    },
    responses: { 200: json(SshKey, 'The key with its fingerprint'), ...problemResponses },
  }),
  deleteKey: createRoute({
    method: 'delete',
    path: '/me/keys/{name}',
    tags,
    security,
    summary: 'Remove a device key',
    request: { params: KeyParams },
    responses: { 204: { description: 'Removed' }, ...problemResponses },
  }),
  getSync: createRoute({
    method: 'get',
    path: '/me/sync/{name}',
    tags,
    security,
    summary: 'A settings blob; ETag for the next If-Match',
    request: { params: SyncParams },
    responses: { 200: json(SyncBlob, 'The blob'), ...problemResponses },
  }),
  putSync: createRoute({
    method: 'put',
    path: '/me/sync/{name}',
    tags,
    security,
    summary:
      'Write a settings blob: If-Match the ETag you read (or none to create); a stale write is 412',
    request: {
      params: SyncParams,
      headers: z.object({ 'if-match': z.string().max(100).optional() }),
      body: { content: { 'application/json': { schema: PutSyncBody } }, required: true },
    },
    responses: {
      200: json(SyncBlob, 'The new version'),
      412: problemResponses[409],
      ...problemResponses,
    },
  }),
};

export function registerMeRoutes(app: OpenAPIHono<HubEnv>, deps: HubDeps): void {
  app.openapi(routes.me, (c) => {
    const { sub, email, admin } = c.get('identity');
    return c.json({ sub, email, admin }, 200);
  });

  app.openapi(routes.listKeys, async (c) =>
    c.json({ keys: await deps.keys.listByOwner(c.get('identity').sub) }, 200),
  );

  app.openapi(routes.getKey, async (c) => {
    const { name } = c.req.valid('param');
    const key = await deps.keys.get(c.get('identity').sub, name);
    if (!key) throw new HubError('not_found', `no key named ${name}`);
    return c.json(key, 200);
  });

  app.openapi(routes.putKey, async (c) => {
    const { name } = c.req.valid('param');
    const key = await deps.keys.put(c.get('identity'), name, c.req.valid('json').public_key);
    c.get('log').info('ssh key registered', { key_name: name, fingerprint: key.fingerprint });
    return c.json(key, 200);
  });

  app.openapi(routes.deleteKey, async (c) => {
    const { name } = c.req.valid('param');
    if (!(await deps.keys.delete(c.get('identity').sub, name)))
      throw new HubError('not_found', `no key named ${name}`);
    return c.body(null, 204);
  });

  app.openapi(routes.getSync, async (c) => {
    const { name } = c.req.valid('param');
    const blob = await deps.sync.get(c.get('identity').sub, name);
    if (!blob) throw new HubError('not_found', `nothing synced under ${name}`);
    c.header('ETag', blob.etag);
    return c.json(blob, 200);
  });

  app.openapi(routes.putSync, async (c) => {
    const { name } = c.req.valid('param');
    const body = c.req.valid('json');
    const blob = await deps.sync.put(c.get('identity').sub, name, body.content, {
      ifMatch: c.req.valid('header')['if-match'],
      deviceId: body.device_id,
    });
    c.header('ETag', blob.etag);
    return c.json(blob, 200);
  });
}
