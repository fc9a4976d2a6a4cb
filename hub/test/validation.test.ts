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
    await expect400('POST', '/workspaces', 'body', []);
    await expect400('POST', '/workspaces', 'body', 'null');
    expect((await hub.call('GET', '/workspaces', { as: ALICE })).body.workspaces).toEqual([]);
    expect(hub.fake.calls.filter((c) => c.method === 'insert')).toEqual([]);
  });

  it('refuses a repository URL that carries a token or password, and stores nothing of it', async () => {
    for (const repo of [
      'https://ghp_abcdef0123456789@github.com/acme/app.git',
      'https://x-access-token:ghs_secret@github.com/acme/app.git',
      'HTTP://user:pass@git.example.com/app',
      'ssh://git:hunter2@git.example.com/app.git',
    ]) {
      const r = await hub.call('POST', '/workspaces', { as: ALICE, body: { repo } });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 'invalid_argument', field: 'repo' });
      // The refusal does not echo the credential back.
      expect(JSON.stringify(r.body)).not.toMatch(/ghp_|ghs_secret|hunter2|:pass@/);
    }
    expect((await hub.call('GET', '/workspaces', { as: ALICE })).body.workspaces).toEqual([]);
    expect(hub.logs.join('\n')).not.toMatch(/ghp_|ghs_secret|hunter2|:pass@/);
    // A user name alone is not a secret: git's ssh forms stay accepted.
    for (const repo of ['git@github.com:acme/app.git', 'ssh://git@github.com/acme/app.git']) {
      const r = await hub.call('POST', '/workspaces', { as: 'carol@example.com', body: { repo } });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
    }
  });

  it('rejects unknown fields by name', async () => {
    await expect400('POST', '/workspaces', 'owner_id', { owner_id: 'someone-else' });
    await expect400('POST', '/workspaces/ws-aaaaaaaaaa/extend', 'extra', { minutes: 5, extra: 1 });
  });

  it('rejects references that are neither a workspace id nor a name', async () => {
    await expect400('GET', '/workspaces/Not_An_Id', 'id');
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

/** A page token as the store encodes one, with whatever fields a caller crafts. */
const craftedToken = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString('base64url');

describe('requests refused for what they are, not what they ask', () => {
  async function expectProblem(
    r: { status: number; body: unknown; headers: Headers },
    status: number,
    code: string,
    field: string,
  ) {
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.body).toMatchObject({ status, code, field });
  }

  it('refuses a body not sent as JSON with 415, and acts on nothing', async () => {
    const ws = (await hub.call('POST', '/workspaces', { as: ALICE })).body;
    const count = async () => (await hub.deps.store.list({ limit: 100 })).workspaces.length;
    const [before, calls] = [await count(), hub.fake.calls.length];
    const asText = { 'content-type': 'text/plain' };
    const refusedAsNotJson = (res: Parameters<typeof expectProblem>[0]) =>
      expectProblem(res, 415, 'unsupported_media_type', 'content-type');
    await refusedAsNotJson(
      await hub.call('POST', '/workspaces', { as: ALICE, body: '{}', headers: asText }),
    );
    await refusedAsNotJson(
      await hub.call('POST', `/workspaces/${ws.id}/extend`, {
        as: ALICE,
        body: '{"minutes":5}',
        headers: { 'content-type': '' },
      }),
    );
    await refusedAsNotJson(
      await hub.call('PUT', '/me/keys/laptop', { as: ALICE, body: '{}', headers: asText }),
    );
    await refusedAsNotJson(
      await hub.call('PUT', '/me/sync/settings', { as: ALICE, body: '{}', headers: asText }),
    );
    await refusedAsNotJson(
      await hub.call('POST', '/agent/heartbeat', {
        body: '{}',
        headers: {
          ...asText,
          authorization: `Bearer ${hub.identityToken(ws)}`,
          'x-workspace-id': ws.id,
        },
      }),
    );
    expect(await count()).toBe(before);
    expect(hub.fake.calls.slice(calls)).toEqual([]);
    expect((await hub.deps.store.get(ws.id))?.deadline).toBe(ws.deadline);
  });

  it('refuses a crafted page token by name instead of passing it to Firestore', async () => {
    const id = 'ws-aaaaaaaaaa';
    const crafted = [
      { c: '+275760-09-13T00:00:00.000Z', i: id }, // past Firestore's last timestamp
      { c: '0000-12-31T00:00:00.000Z', i: id }, // before its first
      { c: '2020-02-30T00:00:00.000Z', i: id }, // no such day
      { c: '2020-01-01', i: id },
      { c: '2020-01-01T00:00:00.000Z', i: 'a/b' }, // a path, not an id
      { c: '2020-01-01T00:00:00.000Z', i: '__name__' },
      { c: '2020-01-01T00:00:00.000Z', i: '' },
      { c: '2020-01-01T00:00:00.000Z', i: id, extra: 1 },
      [1, 2],
    ];
    for (const cursor of crafted)
      await expect400('GET', `/workspaces?page_token=${craftedToken(cursor)}`, 'page_token');
    const issued = craftedToken({ c: '2020-01-01T00:00:00.000Z', i: id });
    expect((await hub.call('GET', `/workspaces?page_token=${issued}`, { as: ALICE })).status).toBe(
      200,
    );
  });

  it('refuses a dev email longer than any mailbox, and creates nothing for it', async () => {
    const long = `${'a'.repeat(1600)}@example.com`;
    for (const [method, path] of [
      ['GET', '/workspaces'],
      ['POST', '/workspaces'],
      ['GET', '/me/keys'],
    ] as const) {
      const r = await hub.call(method, path, { as: long });
      await expectProblem(r, 400, 'invalid_argument', 'authorization');
    }
    const all = await hub.deps.store.list({ limit: 100 });
    expect(all.workspaces.filter((w) => w.owner_email === long)).toEqual([]);
  });

  it('refuses a body over its route’s limit with 413, streamed or announced', async () => {
    const big = (bytes: number) => JSON.stringify({ repo: 'x'.repeat(bytes) });
    await expectProblem(
      await hub.call('POST', '/workspaces', { as: ALICE, body: big(100 * 1024) }),
      413,
      'payload_too_large',
      'body',
    );
    await expectProblem(
      await hub.call('POST', '/workspaces', {
        as: ALICE,
        body: '{}',
        headers: { 'content-length': String(10 * 1024 * 1024) },
      }),
      413,
      'payload_too_large',
      'body',
    );
    await expectProblem(
      await hub.call('PUT', '/me/keys/laptop', {
        as: ALICE,
        body: { public_key: 'x'.repeat(200 * 1024) },
      }),
      413,
      'payload_too_large',
      'body',
    );
    await expectProblem(
      await hub.call('PUT', '/me/sync/settings', {
        as: ALICE,
        body: { content: 'x'.repeat(4 * 1024 * 1024) },
      }),
      413,
      'payload_too_large',
      'body',
    );
    // The largest blob the store takes still fits, however JSON spells it.
    const largest = '\u0001'.repeat(512 * 1024);
    const put = await hub.call('PUT', '/me/sync/settings', {
      as: ALICE,
      body: { content: largest },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    await expectProblem(
      await hub.call('POST', '/cleanup', { as: ALICE, body: big(32 * 1024) }),
      413,
      'payload_too_large',
      'body',
    );
  });

  it('authenticates an agent callback before reading its body', async () => {
    let pulled = false;
    const body = new ReadableStream(
      {
        pull(controller) {
          pulled = true;
          controller.enqueue(new TextEncoder().encode('{"workspace_id":'));
          controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const r = await hub.app.request('/agent/heartbeat', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer not-a-token',
        'x-workspace-id': 'ws-aaaaaaaaaa',
      },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(r.status).toBe(401);
    expect(pulled).toBe(false);
    // Nor does a large body from nobody get a 413: it is not looked at.
    const anonymous = await hub.call('POST', '/agent/ready', {
      body: JSON.stringify({ x: 'x'.repeat(64 * 1024) }),
    });
    expect(anonymous.status).toBe(401);
  });
});
