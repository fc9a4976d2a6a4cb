import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './harness.js';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document listing every route', async () => {
    const r = await hub.call('GET', '/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    const result = await new Validator().validate(r.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const ops = Object.entries(r.body.paths as Record<string, Record<string, unknown>>).flatMap(
      ([p, m]) => Object.keys(m).map((method) => `${method.toUpperCase()} ${p}`),
    );
    expect(ops.sort()).toEqual(
      [
        'GET /workspaces',
        'POST /workspaces',
        'GET /workspaces/{id}',
        'PATCH /workspaces/{id}',
        'GET /workspaces/{id}/events',
        'DELETE /workspaces/{id}',
        'POST /workspaces/{id}/stop',
        'POST /workspaces/{id}/start',
        'POST /workspaces/{id}/connect',
        'POST /workspaces/{id}/extend',
        'GET /workspaces/{id}/status',
        'GET /workspaces/{id}/terminal',
        'GET /workspaces/{id}/files',
        'DELETE /workspaces/{id}/files',
        'GET /workspaces/{id}/files/content',
        'PUT /workspaces/{id}/files/content',
        'DELETE /workspaces/{id}/files/content',
        'POST /workspaces/{id}/files/folders',
        'POST /workspaces/{id}/files/rename',
        'POST /cleanup',
        'GET /admin/orphans',
        'DELETE /admin/orphans/{zone}/{instance}',
        'POST /agent/ready',
        'POST /agent/heartbeat',
        'GET /agent/authorized-keys',
        'GET /me',
        'GET /config',
        'GET /me/keys',
        'GET /me/keys/{name}',
        'PUT /me/keys/{name}',
        'DELETE /me/keys/{name}',
        'GET /me/sync/{name}',
        'PUT /me/sync/{name}',
        'GET /health',
        'GET /ready',
      ].sort(),
    );
  });
});
