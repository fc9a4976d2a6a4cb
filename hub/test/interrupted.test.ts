import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dyingHub } from './dying-hub.js';
import { manualClock, startTestHub, type TestHub, waitForStatus } from './harness.js';

const ALICE = 'alice@example.com';
const ADMIN = 'root@example.com';
const MIN = 60_000;

const clock = manualClock();
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub({ HUB_ADMINS: ADMIN }, { now: clock.now });
});
afterAll(() => hub.close());

/**
 * A hub over the same Firestore and Compute that dies inside its insert: the
 * call never returns (the instance is stopped, or crashed, at that point), so
 * the workspace document is written and its insert is not. Returns the id.
 */
async function createCutShort(headers: Record<string, string> = {}): Promise<string> {
  const before = new Set(await ids());
  dyingHub(hub, ALICE, 'create', false)(
    'POST',
    '/workspaces',
    { 'content-type': 'application/json', ...headers },
    '{}',
  );
  for (;;) {
    const fresh = (await ids()).filter((id) => !before.has(id));
    if (fresh.length) return fresh[0]!;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function ids(): Promise<string[]> {
  const r = await hub.call('GET', '/workspaces', { as: ALICE });
  return r.body.workspaces.map((w: { id: string }) => w.id);
}

const inserts = (id: string) =>
  hub.fake.calls.filter((c) => c.method === 'insert' && c.instance === id).length;

describe('a create cut short by a hub crash', () => {
  it('is finished by a retry with the same Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'create-cut-short' };
    const id = await createCutShort(headers);
    const stuck = (await hub.deps.store.get(id))!;
    expect(stuck).toMatchObject({ status: 'PROVISIONING', operation: { name: null } });
    expect(inserts(id)).toBe(0);

    const retry = await hub.call('POST', '/workspaces', { as: ALICE, headers, body: {} });
    expect(retry.status).toBe(202);
    expect(retry.body.id).toBe(id);
    expect(retry.body.operation.name).toEqual(expect.any(String));
    await hub.fake.waitForStatus(id, 'RUNNING');
    expect((await hub.agentReady(id)).status).toBe(200);
    await waitForStatus(hub, id, ALICE, 'READY');
    // A second retry makes no second VM.
    await hub.call('POST', '/workspaces', { as: ALICE, headers, body: {} });
    expect(inserts(id)).toBe(1);
  });

  it('is finished by the next sweep, not left PROVISIONING until its timeout', async () => {
    const id = await createCutShort();
    // Young transitions are left to finish on their own.
    const early = await hub.call('POST', '/cleanup', { as: ADMIN });
    expect(early.status).toBe(200);
    expect(inserts(id)).toBe(0);

    clock.advance(3 * MIN);
    const sweep = await hub.call('POST', '/cleanup', { as: ADMIN });
    expect(sweep.body).toMatchObject({ repaired: 1, errors: [] });
    expect((await hub.deps.store.get(id))!.operation?.name).toEqual(expect.any(String));
    await hub.fake.waitForStatus(id, 'RUNNING');
    expect((await hub.agentReady(id)).status).toBe(200);
    await waitForStatus(hub, id, ALICE, 'READY');
    expect(inserts(id)).toBe(1);
  });
});

describe('a transition cut short by a hub crash between its claim and its call', () => {
  it('is finished by the next sweep: the stop is made, not left SUSPENDING until its timeout', async () => {
    const id = (await hub.call('POST', '/workspaces', { as: ALICE, body: {} })).body.id;
    await hub.fake.waitForStatus(id, 'RUNNING');
    await hub.agentReady(id);
    await waitForStatus(hub, id, ALICE, 'READY');

    dyingHub(hub, ALICE, 'suspend', false)('POST', `/workspaces/${id}/stop`);
    while ((await hub.deps.store.get(id))!.status !== 'SUSPENDING')
      await new Promise((r) => setTimeout(r, 20));
    expect(hub.fake.instance(id)?.status).toBe('RUNNING');

    clock.advance(3 * MIN);
    const sweep = await hub.call('POST', '/cleanup', { as: ADMIN });
    expect(sweep.body).toMatchObject({ repaired: 1, errors: [] });
    await hub.fake.waitForStatus(id, 'SUSPENDED');
    await waitForStatus(hub, id, ALICE, 'SUSPENDED');
    expect(hub.fake.calls.filter((c) => c.method === 'suspend' && c.instance === id)).toHaveLength(
      1,
    );
  });
});
