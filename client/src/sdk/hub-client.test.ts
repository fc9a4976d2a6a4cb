import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalHub, startLocalHub } from '../../test/local-hub.js';
import { devTokenProvider } from './auth.js';
import { HubApiError } from './errors.js';
import { HubClient } from './hub-client.js';

let hub: LocalHub;
let alice: HubClient;
let bob: HubClient;

beforeAll(async () => {
  hub = await startLocalHub();
  alice = new HubClient({ url: hub.url, token: devTokenProvider('alice@example.com') });
  bob = new HubClient({ url: hub.url, token: devTokenProvider('bob@example.com') });
});

afterAll(async () => {
  await hub?.stop();
});

async function until(id: string, status: string): Promise<void> {
  while ((await alice.workspaceStatus(id)).workspace.status !== status)
    await new Promise((r) => setTimeout(r, 200));
}

async function rejection(p: Promise<unknown>): Promise<HubApiError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HubApiError);
  return err as HubApiError;
}

describe('HubClient against a local hub', () => {
  it('creates once per Idempotency-Key, lists page by page, hides other users, deletes', async () => {
    const key = randomUUID();
    const first = await alice.createWorkspace(
      { repo: 'https://github.com/acme/app' },
      { idempotencyKey: key },
    );
    const again = await alice.createWorkspace(
      { repo: 'https://github.com/acme/app' },
      { idempotencyKey: key },
    );
    expect(again.id).toBe(first.id);
    const second = await alice.createWorkspace({});
    expect(second.id).not.toBe(first.id);

    const page = await alice.listWorkspaces({ limit: 1 });
    expect(page.workspaces).toHaveLength(1);
    expect(page.next_page_token).not.toBeNull();
    const all: string[] = [];
    for await (const ws of alice.allWorkspaces({ limit: 1 })) all.push(ws.id);
    expect(all.sort()).toEqual([first.id, second.id].sort());

    expect((await bob.listWorkspaces()).workspaces).toEqual([]);
    const hidden = await rejection(bob.getWorkspace(first.id));
    expect(hidden.status).toBe(404);

    for (const id of [first.id, second.id]) {
      const deleting = await alice.deleteWorkspace(id);
      expect(deleting.id).toBe(id);
    }
  });

  it('turns problem+json answers into HubApiError with status, code, field and current status', async () => {
    const bad = await rejection(alice.createWorkspace({ zone: 'nowhere' }));
    expect(bad.status).toBe(400);
    expect(bad.field).toBe('zone');
    expect(bad.detail).toContain('zone');

    const missing = await rejection(alice.getWorkspace('ws-aaaaaaaaaa'));
    expect(missing.status).toBe(404);
    expect(missing.code).toBe('not_found');

    const ws = await alice.createWorkspace({});
    await until(ws.id, 'READY');
    await alice.stopWorkspace(ws.id);
    await until(ws.id, 'SUSPENDED');
    const conflict = await rejection(alice.extend(ws.id, 10));
    expect(conflict.status).toBe(409);
    expect(conflict.currentStatus).toBe('SUSPENDED');
    await alice.deleteWorkspace(ws.id);
  });

  it('reports an unreachable hub as a HubApiError naming the URL', async () => {
    const gone = new HubClient({
      url: 'http://127.0.0.1:9',
      token: devTokenProvider('a@example.com'),
    });
    const err = await rejection(gone.listWorkspaces());
    expect(err.code).toBe('unreachable');
    expect(err.detail).toContain('127.0.0.1:9');
  });

  it('keeps device keys per name', async () => {
    expect(await alice.getKey('laptop')).toBeNull();
    const key = await alice.putKey(
      'laptop',
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGsbmXQ5GbEPPbZZFpXaWdZqOTbT+8Sp6O3Q3K3wWnoI laptop',
    );
    expect(key.fingerprint).toMatch(/^SHA256:/);
    expect((await alice.listKeys()).map((k) => k.name)).toEqual(['laptop']);
    expect(await bob.getKey('laptop')).toBeNull();
    await alice.deleteKey('laptop');
    expect(await alice.getKey('laptop')).toBeNull();
  });

  it('writes sync blobs with If-Match and refuses a stale ETag with 412', async () => {
    const v1 = await alice.putSync('gemini', 'one', { deviceId: 'laptop' });
    const v2 = await alice.putSync('gemini', 'two', { ifMatch: v1.etag, deviceId: 'desktop' });
    expect(v2.version).toBe(v1.version + 1);
    const stale = await rejection(
      alice.putSync('gemini', 'three', { ifMatch: v1.etag, deviceId: 'laptop' }),
    );
    expect(stale.status).toBe(412);
    expect(stale.detail).toContain('desktop');
    const now = await alice.getSync('gemini');
    expect(now?.content).toBe('two');
    expect(await bob.getSync('gemini')).toBeNull();
  });
});
