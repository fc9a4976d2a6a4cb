import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './harness.js';

const ALICE = 'alice@example.com';
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub({ HUB_ALLOWED_MACHINE_TYPES: 'e2-standard-4,e2-standard-8' });
});
afterAll(() => hub.close());

async function expect400(method: string, path: string, field: string, body?: unknown) {
  const r = await hub.call(method, path, { as: ALICE, body });
  expect(r.status, JSON.stringify(r.body)).toBe(400);
  expect(r.headers.get('content-type')).toBe('application/problem+json');
  expect(r.body).toMatchObject({ status: 400, code: 'invalid_argument', field });
  expect(r.body.detail).toContain(field);
}

describe('bad input', () => {
  it('names the field of a bad create body and creates nothing', async () => {
    await expect400('POST', '/workspaces', 'disk_size_gb', { disk_size_gb: 'big' });
    await expect400('POST', '/workspaces', 'disk_size_gb', { disk_size_gb: 5 });
    await expect400('POST', '/workspaces', 'branch', { branch: 'a b' });
    for (const branch of [
      'main\u0000',
      'fe\u0007ture',
      'x\u007f',
      'a..b',
      '-x',
      'a/.b',
      'a.lock',
      '',
    ])
      await expect400('POST', '/workspaces', 'branch', { branch });
    await expect400('POST', '/workspaces', 'repo', { repo: 'https://example.com/r\u0000.git' });
    await expect400('POST', '/workspaces', 'machine_type', { machine_type: 'n1-ultramem-160' });
    await expect400('POST', '/workspaces', 'zone', { zone: 'moon-1' });
    await expect400('POST', '/workspaces', 'zone', { zone: 'us-east1-b' }); // well-formed, not allowed here
    await expect400('POST', '/workspaces', 'body', '{not json');
    expect((await hub.call('GET', '/workspaces', { as: ALICE })).body.workspaces).toEqual([]);
    expect(hub.fake.calls.filter((c) => c.method === 'insert')).toEqual([]);
  });

  it('rejects unknown fields by name', async () => {
    await expect400('POST', '/workspaces', 'owner_id', { owner_id: 'someone-else' });
    await expect400('POST', '/workspaces/ws-aaaaaaaaaa/extend', 'extra', { minutes: 5, extra: 1 });
  });

  it('rejects malformed workspace ids', async () => {
    await expect400('GET', '/workspaces/not-an-id', 'id');
    await expect400('POST', '/workspaces/ws-UPPERCASE1/stop', 'id');
  });

  it('rejects bad pagination', async () => {
    await expect400('GET', '/workspaces?page_token=garbage', 'page_token');
    await expect400('GET', '/workspaces?limit=0', 'limit');
    await expect400('GET', '/workspaces?limit=1000', 'limit');
    await expect400('GET', '/workspaces?status=SLEEPING', 'status');
    await expect400('GET', '/workspaces?colour=blue', 'colour');
  });

  it('pages through a list with next_page_token', async () => {
    for (let i = 0; i < 5; i++) await hub.call('POST', '/workspaces', { as: ALICE });
    const ids = new Set<string>();
    let token: string | null = null;
    do {
      const r = await hub.call('GET', `/workspaces?limit=2${token ? `&page_token=${token}` : ''}`, {
        as: ALICE,
      });
      expect(r.status).toBe(200);
      for (const w of r.body.workspaces) ids.add(w.id);
      token = r.body.next_page_token;
    } while (token);
    expect(ids.size).toBe(5);
    const ready = await hub.call('GET', '/workspaces?status=READY', { as: ALICE });
    expect(ready.body.workspaces).toEqual([]);
  });
});
