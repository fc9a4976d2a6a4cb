import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './harness.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const ADMIN = 'root@example.com';
let hub: TestHub;
let aliceWs: string;

beforeAll(async () => {
  hub = await startTestHub({ HUB_ADMINS: ADMIN, HUB_MAX_WORKSPACES_PER_USER: '3' });
  aliceWs = (await hub.call('POST', '/workspaces', { as: ALICE })).body.id;
  await hub.call('POST', '/workspaces', { as: BOB });
});
afterAll(() => hub.close());

describe('owner isolation', () => {
  it('lists only the caller’s workspaces', async () => {
    const bobs = await hub.call('GET', '/workspaces', { as: BOB });
    expect(bobs.status).toBe(200);
    expect(bobs.body.workspaces.map((w: { owner_email: string }) => w.owner_email)).toEqual([BOB]);
  });

  it('answers 404, not 403, for another user’s workspace, and changes nothing', async () => {
    for (const [method, path] of [
      ['GET', `/workspaces/${aliceWs}`],
      ['GET', `/workspaces/${aliceWs}/status`],
      ['POST', `/workspaces/${aliceWs}/stop`],
      ['POST', `/workspaces/${aliceWs}/start`],
      ['DELETE', `/workspaces/${aliceWs}`],
    ] as const) {
      const r = await hub.call(method, path, { as: BOB });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body.code).toBe('not_found');
    }
    expect((await hub.call('GET', `/workspaces/${aliceWs}`, { as: ALICE })).body.status).toBe(
      'PROVISIONING',
    );
  });

  it('lets an admin see everyone’s and act on another user’s workspace', async () => {
    const all = await hub.call('GET', '/workspaces?scope=all', { as: ADMIN });
    expect(all.body.workspaces.map((w: { owner_email: string }) => w.owner_email).sort()).toEqual([
      ALICE,
      BOB,
    ]);
    expect((await hub.call('GET', '/workspaces?scope=all', { as: BOB })).status).toBe(403);
    const del = await hub.call('DELETE', `/workspaces/${aliceWs}`, { as: ADMIN });
    expect(del.status).toBe(202);
    expect(del.body.status).toBe('DELETING');
  });

  it('enforces the per-user quota with a clear problem', async () => {
    for (let i = 0; i < 2; i++)
      expect((await hub.call('POST', '/workspaces', { as: BOB })).status).toBe(202);
    const over = await hub.call('POST', '/workspaces', { as: BOB });
    expect(over.status).toBe(429);
    expect(over.body.detail).toMatch(/limit is 3/);
  });

  it('requires a caller', async () => {
    const r = await hub.call('GET', '/workspaces');
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('unauthenticated');
  });
});
