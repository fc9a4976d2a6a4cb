import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './harness.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHWZ/E6VpYbtTYvZKd0eWpYnUVgnbbqKdHLJ3hE7gkfi alice@laptop';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ HUB_ADMINS: ALICE });
});
afterAll(() => hub.close());

describe('GET /me', () => {
  it('tells callers who they are to the hub and whether they are admins', async () => {
    const alice = await hub.call('GET', '/me', { as: ALICE });
    expect(alice.status).toBe(200);
    expect(alice.body).toEqual({ sub: expect.any(String), email: ALICE, admin: true });
    expect((await hub.call('GET', '/me', { as: BOB })).body).toMatchObject({
      email: BOB,
      admin: false,
    });
  });

  it('is 401 without credentials', async () => {
    const r = await hub.call('GET', '/me');
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('/me/keys', () => {
  it('registers a device key and returns its OpenSSH fingerprint', async () => {
    const r = await hub.call('PUT', '/me/keys/laptop-1', { as: ALICE, body: { public_key: KEY } });
    expect(r.status).toBe(200);
    expect(r.body.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect((await hub.call('GET', '/me/keys', { as: ALICE })).body.keys).toHaveLength(1);
    expect((await hub.call('GET', '/me/keys', { as: BOB })).body.keys).toEqual([]);
    expect((await hub.call('GET', '/me/keys/laptop-1', { as: BOB })).status).toBe(404);
  });

  it('rejects keys that are not OpenSSH public keys, naming the field', async () => {
    for (const bad of [
      'hello',
      'ssh-ed25519 !!!',
      'ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIHWZ',
      // KEY with the last bytes of its 32-byte public key cut off.
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHWZ/E6VpYbtTYvZKd0eWpYnUVgnbbqKdHLJ3hE7',
      `${KEY}\nssh-ed25519 AAAA`,
    ]) {
      const r = await hub.call('PUT', '/me/keys/x', { as: ALICE, body: { public_key: bad } });
      expect(r.status, bad).toBe(400);
      expect(r.body.field).toBe('public_key');
    }
    expect(
      (await hub.call('PUT', '/me/keys/bad name', { as: ALICE, body: { public_key: KEY } })).body
        .field,
    ).toBe('name');
  });

  it('deletes a key', async () => {
    expect((await hub.call('DELETE', '/me/keys/laptop-1', { as: ALICE })).status).toBe(204);
    expect((await hub.call('DELETE', '/me/keys/laptop-1', { as: ALICE })).status).toBe(404);
  });
});

describe('/me/sync', () => {
  it('refuses a stale write instead of overwriting it', async () => {
    const created = await hub.call('PUT', '/me/sync/gemini-settings', {
      as: ALICE,
      body: { content: '{"theme":"dark"}', device_id: 'laptop' },
    });
    expect(created.status).toBe(200);
    const etag = created.headers.get('etag')!;
    const fromB = await hub.call('PUT', '/me/sync/gemini-settings', {
      as: ALICE,
      headers: { 'if-match': etag },
      body: { content: '{"theme":"light"}', device_id: 'desktop' },
    });
    expect(fromB.status).toBe(200);
    const staleA = await hub.call('PUT', '/me/sync/gemini-settings', {
      as: ALICE,
      headers: { 'if-match': etag },
      body: { content: '{"theme":"solarized"}', device_id: 'laptop' },
    });
    expect(staleA.status).toBe(412);
    expect(staleA.body.detail).toMatch(/desktop/);
    const blind = await hub.call('PUT', '/me/sync/gemini-settings', {
      as: ALICE,
      body: { content: 'x' },
    });
    expect(blind.status).toBe(412);
    const now = await hub.call('GET', '/me/sync/gemini-settings', { as: ALICE });
    expect(now.body.content).toBe('{"theme":"light"}');
    expect(now.headers.get('etag')).toBe(fromB.headers.get('etag'));
    expect((await hub.call('GET', '/me/sync/gemini-settings', { as: BOB })).status).toBe(404);
  });
});
