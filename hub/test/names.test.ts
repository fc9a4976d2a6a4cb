import { newWorkspaceId, WORKSPACE_NAMES } from '@workspace-hub/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub, waitForStatus } from './harness.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const ADMIN = 'root@example.com';
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub({ HUB_ADMINS: ADMIN });
});
afterAll(() => hub.close());

const create = (as: string, body: Record<string, unknown> = {}) =>
  hub.call('POST', '/workspaces', { as, body });
const namesOf = async (as: string): Promise<string[]> =>
  (await hub.call('GET', '/workspaces', { as })).body.workspaces.map(
    (w: { name: string }) => w.name,
  );

describe('names on create', () => {
  it('takes the owner’s name and answers to it wherever the id is accepted', async () => {
    const made = await create(ALICE, { name: 'chosen' });
    expect(made.status, JSON.stringify(made.body)).toBe(202);
    expect(made.body.name).toBe('chosen');
    const got = await hub.call('GET', '/workspaces/chosen', { as: ALICE });
    expect(got.status).toBe(200);
    expect(got.body.id).toBe(made.body.id);
    await hub.agentReady(made.body.id);
    const stopped = await hub.call('POST', '/workspaces/chosen/stop', { as: ALICE });
    expect(stopped.status).toBe(202);
    expect(stopped.body).toMatchObject({ id: made.body.id, status: 'SUSPENDING' });
    const status = await hub.call('GET', '/workspaces/chosen/status', { as: ALICE });
    expect(status.body.workspace.id).toBe(made.body.id);
    expect(await namesOf(ALICE)).toContain('chosen');
  });

  it('lets exactly one of two concurrent creates with the same name win', async () => {
    const answers = await Promise.all([0, 1, 2].map(() => create(ALICE, { name: 'race' })));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([202, 409, 409]);
    for (const lost of answers.filter((a) => a.status === 409))
      expect(lost.body).toMatchObject({ code: 'conflict', field: 'name' });
    expect((await namesOf(ALICE)).filter((n) => n === 'race')).toHaveLength(1);
  });

  it('derives a unique name from the repository when none is given', async () => {
    const repo = 'https://github.com/acme/My_App.git';
    const first = await create(ALICE, { repo });
    expect(first.body.name).toBe('my-app');
    // Concurrent creates of the same repository each get a name of their own.
    const more = await Promise.all([0, 1, 2].map(() => create(ALICE, { repo })));
    expect(more.map((m) => m.status)).toEqual([202, 202, 202]);
    expect(more.map((m) => m.body.name).sort()).toEqual(['my-app-2', 'my-app-3', 'my-app-4']);
    expect((await create(ALICE, { repo: 'git@github.com:acme/tool' })).body.name).toBe('tool');
    expect((await create(BOB)).body.name).toBe('workspace');
    expect((await create(BOB)).body.name).toBe('workspace-2');
    // Another owner's names do not count.
    expect((await create(BOB, { repo })).body.name).toBe('my-app');
  });

  it('refuses a name that is not a DNS label or looks like an id, naming the field', async () => {
    for (const name of [
      'ws-abcdefgh23',
      'My-App',
      'my_app',
      '-app',
      'app-',
      '1app',
      '',
      'a'.repeat(64),
    ]) {
      const r = await create(ALICE, { name });
      expect(r.status, name).toBe(400);
      expect(r.body).toMatchObject({ code: 'invalid_argument', field: 'name' });
    }
    expect((await create(ALICE, { name: 'a'.repeat(63) })).status).toBe(202);
  });
});

describe('addressing by name', () => {
  it('means the caller’s own workspace: another user’s name is 404, an admin uses the id', async () => {
    const alices = (await create(ALICE, { name: 'mine' })).body;
    for (const [method, path] of [
      ['GET', '/workspaces/mine'],
      ['GET', '/workspaces/mine/status'],
      ['POST', '/workspaces/mine/stop'],
      ['DELETE', '/workspaces/mine'],
    ] as const) {
      const r = await hub.call(method, path, { as: BOB });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body.code).toBe('not_found');
    }
    expect((await hub.call('GET', '/workspaces/mine', { as: ADMIN })).status).toBe(404);
    expect((await hub.call('GET', `/workspaces/${alices.id}`, { as: ADMIN })).body.name).toBe(
      'mine',
    );
    // Bob may have the same name for a workspace of his own.
    const bobs = (await create(BOB, { name: 'mine' })).body;
    expect((await hub.call('GET', '/workspaces/mine', { as: BOB })).body.id).toBe(bobs.id);
    expect((await hub.call('GET', '/workspaces/mine', { as: ALICE })).body.id).toBe(alices.id);
  });

  it('refuses a reference that is neither an id nor a name, naming it', async () => {
    for (const ref of ['Not_A_Name', 'ws-UPPERCASE1', 'x-']) {
      const r = await hub.call('GET', `/workspaces/${ref}`, { as: ALICE });
      expect(r.status, ref).toBe(400);
      expect(r.body).toMatchObject({ code: 'invalid_argument', field: 'id' });
    }
  });
});

describe('rename', () => {
  it('keeps the id and VM, frees the old name and takes the new one', async () => {
    const ws = (await create(ALICE, { name: 'before' })).body;
    const renamed = await hub.call('PATCH', '/workspaces/before', {
      as: ALICE,
      body: { name: 'after' },
    });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body).toMatchObject({ id: ws.id, name: 'after', instance_name: ws.id });
    expect(renamed.body.version).toBe(ws.version + 1);
    expect((await hub.call('GET', '/workspaces/before', { as: ALICE })).status).toBe(404);
    expect((await hub.call('GET', '/workspaces/after', { as: ALICE })).body.id).toBe(ws.id);
    expect(
      hub.fake.calls.filter((c) => c.instance === ws.id && c.method !== 'get').map((c) => c.method),
    ).toEqual(['insert']);
    // The old name is free again.
    expect((await create(ALICE, { name: 'before' })).status).toBe(202);
  });

  it('refuses a taken name (409) and a bad one (400 naming `name`), changing nothing', async () => {
    const ws = (await create(ALICE, { name: 'keep' })).body;
    await create(ALICE, { name: 'taken' });
    const taken = await hub.call('PATCH', `/workspaces/${ws.id}`, {
      as: ALICE,
      body: { name: 'taken' },
    });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ code: 'conflict', field: 'name' });
    const bad = await hub.call('PATCH', `/workspaces/${ws.id}`, {
      as: ALICE,
      body: { name: 'ws-abcdefgh23' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalid_argument', field: 'name' });
    const now = await hub.call('GET', '/workspaces/keep', { as: ALICE });
    expect(now.body).toMatchObject({ id: ws.id, version: ws.version });
    // Another user cannot rename it, by id or by name.
    expect(
      (await hub.call('PATCH', `/workspaces/${ws.id}`, { as: BOB, body: { name: 'x' } })).status,
    ).toBe(404);
  });

  it('lets only one of two concurrent renames to the same name win', async () => {
    const a = (await create(ALICE, { name: 'ra' })).body;
    const b = (await create(ALICE, { name: 'rb' })).body;
    const answers = await Promise.all(
      [a, b].map((w) =>
        hub.call('PATCH', `/workspaces/${w.id}`, { as: ALICE, body: { name: 'contested' } }),
      ),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    const names = await namesOf(ALICE);
    expect(names.filter((n) => n === 'contested')).toHaveLength(1);
    expect(names.filter((n) => n === 'ra' || n === 'rb')).toHaveLength(1);
  });
});

describe('delete', () => {
  it('frees the name once the workspace is gone', async () => {
    const ws = (await create(ALICE, { name: 'short-lived' })).body;
    expect((await hub.call('DELETE', '/workspaces/short-lived', { as: ALICE })).status).toBe(202);
    await waitForStatus(hub, ws.id, ALICE, 'GONE');
    const again = await create(ALICE, { name: 'short-lived' });
    expect(again.status).toBe(202);
    expect(again.body.id).not.toBe(ws.id);
  });
});

describe('workspaces from before names', () => {
  /** A workspace as the hub wrote it before names: no `name` field, no reservation. */
  async function legacy(owner: string, repo?: string): Promise<string> {
    const { id } = (await create(owner, { name: `tmp-${newWorkspaceId().slice(3)}`, repo })).body;
    const db = hub.deps.store.db;
    const ref = db.collection('workspaces').doc(id);
    const { name: _dropped, ...old } = (await ref.get()).data()!;
    await ref.set(old);
    const held = await db.collection(WORKSPACE_NAMES).where('workspace_id', '==', id).get();
    await Promise.all(held.docs.map((d) => d.ref.delete()));
    return id;
  }

  it('get a unique name from their repository when listed, and answer to it', async () => {
    const carol = 'carol@example.com';
    const one = await legacy(carol, 'https://example.com/old-app.git');
    const two = await legacy(carol, 'https://example.com/old-app.git');
    const list = (await hub.call('GET', '/workspaces', { as: carol })).body.workspaces;
    const byId = new Map(list.map((w: { id: string; name: string }) => [w.id, w.name]));
    expect([byId.get(one), byId.get(two)].sort()).toEqual(['old-app', 'old-app-2']);
    const got = await hub.call('GET', `/workspaces/${byId.get(two)}`, { as: carol });
    expect(got.body.id).toBe(two);
    // The name is reserved like any other.
    expect((await create(carol, { name: 'old-app' })).status).toBe(409);
  });

  it('are found by name even before anything listed them', async () => {
    const dave = 'dave@example.com';
    const id = await legacy(dave);
    const got = await hub.call('GET', '/workspaces/workspace', { as: dave });
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    expect(got.body).toMatchObject({ id, name: 'workspace' });
    const reservations = await hub.deps.store.db
      .collection(WORKSPACE_NAMES)
      .where('workspace_id', '==', id)
      .get();
    expect(reservations.size).toBe(1);
  });
});

describe('connect', () => {
  it('accepts no body or {} (the device last recorded), and still refuses a non-JSON body', async () => {
    const ws = (await create(ALICE, { name: 'connecting', device_id: 'laptop' })).body;
    const bare = await hub.call('POST', '/workspaces/connecting/connect', { as: ALICE });
    expect(bare.status, JSON.stringify(bare.body)).toBe(200);
    expect(bare.body.last_device_id).toBe('laptop');
    expect(bare.body.last_connected_at).not.toBeNull();
    const phone = await hub.call('POST', `/workspaces/${ws.id}/connect`, {
      as: ALICE,
      body: { device_id: 'phone' },
    });
    expect(phone.body.last_device_id).toBe('phone');
    const empty = await hub.call('POST', `/workspaces/${ws.id}/connect`, { as: ALICE, body: {} });
    expect(empty.status).toBe(200);
    expect(empty.body.last_device_id).toBe('phone');
    // Labelled JSON but without a body, as many clients send a bare POST.
    for (const headers of <Record<string, string>[]>[
      { 'content-type': 'application/json' },
      { 'content-type': 'application/json', 'content-length': '0' },
    ]) {
      const labelled = await hub.call('POST', `/workspaces/${ws.id}/connect`, {
        as: ALICE,
        headers,
      });
      expect(labelled.status, JSON.stringify(labelled.body)).toBe(200);
      expect(labelled.body.last_device_id).toBe('phone');
    }
    const malformed = await hub.call('POST', `/workspaces/${ws.id}/connect`, {
      as: ALICE,
      body: '{"device_id":',
    });
    expect(malformed.status).toBe(400);
    const text = await hub.call('POST', `/workspaces/${ws.id}/connect`, {
      as: ALICE,
      body: '{}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    expect(text.body).toMatchObject({ code: 'unsupported_media_type', field: 'content-type' });
  });
});
