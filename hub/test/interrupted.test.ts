import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DriverCall, dyingHub } from './dying-hub.js';
import { manualClock, startTestHub, type TestHub, waitForStatus } from './harness.js';

// The hub killed inside a create, a stop, a resume or a delete, before its GCE call was sent or
// after it was and before its operation was recorded: a second hub whose driver call never
// returns stands in for the crash. One hub (and one manual clock) for the file.

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

const FAKE_METHOD = { create: 'insert', suspend: 'suspend', resume: 'resume', delete: 'delete' };

/** The requests of `call` on the instance; each distinct requestId is one effect (GCE dedupes). */
function effects(id: string, call: DriverCall): number {
  const ids = hub.fake.calls
    .filter((c) => c.method === FAKE_METHOD[call] && c.instance === id)
    .map((c) => c.requestId);
  return new Set(ids).size;
}
const requests = (id: string, call: DriverCall) =>
  hub.fake.calls.filter((c) => c.method === FAKE_METHOD[call] && c.instance === id).length;

async function until(check: () => Promise<boolean> | boolean) {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}

async function readyWorkspace(): Promise<string> {
  const id = (await hub.call('POST', '/workspaces', { as: ALICE, body: {} })).body.id;
  await hub.fake.waitForStatus(id, 'RUNNING');
  await hub.agentReady(id);
  await waitForStatus(hub, id, ALICE, 'READY');
  return id;
}

async function suspendedWorkspace(): Promise<string> {
  const id = await readyWorkspace();
  await hub.call('POST', `/workspaces/${id}/stop`, { as: ALICE });
  await waitForStatus(hub, id, ALICE, 'SUSPENDED');
  await hub.fake.waitForStatus(id, 'SUSPENDED');
  return id;
}

async function sweepLater() {
  clock.advance(3 * MIN);
  const sweep = await hub.call('POST', '/cleanup', { as: ADMIN });
  expect(sweep.status).toBe(200);
  expect(sweep.body.errors).toEqual([]);
  return sweep.body;
}

const status = async (id: string) => (await hub.deps.store.get(id))?.status;

describe('a start cut short by a hub crash', () => {
  it('between its claim and its call: the next sweep makes the resume, once', async () => {
    const id = await suspendedWorkspace();
    dyingHub(hub, ALICE, 'resume', false)('POST', `/workspaces/${id}/start`);
    await until(async () => (await status(id)) === 'RESUMING');
    expect(hub.fake.instance(id)?.status).toBe('SUSPENDED');

    expect(await sweepLater()).toMatchObject({ repaired: 1 });
    await hub.fake.waitForStatus(id, 'RUNNING');
    await hub.agentReady(id);
    await waitForStatus(hub, id, ALICE, 'READY');
    expect(effects(id, 'resume')).toBe(1);
  });

  it('after its call was sent: the next sweep finishes it without a second resume', async () => {
    const id = await suspendedWorkspace();
    dyingHub(hub, ALICE, 'resume', true)('POST', `/workspaces/${id}/start`);
    await until(() => requests(id, 'resume') === 1);
    expect((await hub.deps.store.get(id))!.operation).toMatchObject({ kind: 'resume', name: null });

    await hub.fake.waitForStatus(id, 'RUNNING');
    await sweepLater();
    await hub.agentReady(id);
    await waitForStatus(hub, id, ALICE, 'READY');
    expect(effects(id, 'resume')).toBe(1);
  });
});

describe('a delete cut short by a hub crash', () => {
  it('between its claim and its call: the next sweep deletes the VM and the workspace', async () => {
    const id = await readyWorkspace();
    dyingHub(hub, ALICE, 'delete', false)('DELETE', `/workspaces/${id}`);
    await until(async () => (await status(id)) === 'DELETING');
    expect(hub.fake.instance(id)?.status).toBe('RUNNING');

    expect(await sweepLater()).toMatchObject({ repaired: 1 });
    await waitForStatus(hub, id, ALICE, 'GONE');
    await hub.fake.waitForGone(id);
    expect(effects(id, 'delete')).toBe(1);
  });

  it('after its call was sent: the next sweep drops the workspace, no second delete', async () => {
    const id = await suspendedWorkspace();
    dyingHub(hub, ALICE, 'delete', true)('DELETE', `/workspaces/${id}`);
    await until(() => requests(id, 'delete') === 1);
    expect((await hub.deps.store.get(id))!.operation).toMatchObject({ kind: 'delete', name: null });

    await sweepLater();
    await waitForStatus(hub, id, ALICE, 'GONE');
    await hub.fake.waitForGone(id);
    expect(effects(id, 'delete')).toBe(1);
  });
});

describe('a stop cut short by a hub crash after its call was sent', () => {
  it('converges to SUSPENDED with one suspend', async () => {
    const id = await readyWorkspace();
    dyingHub(hub, ALICE, 'suspend', true)('POST', `/workspaces/${id}/stop`);
    await until(() => requests(id, 'suspend') === 1);
    expect((await hub.deps.store.get(id))!.operation).toMatchObject({
      kind: 'suspend',
      name: null,
    });

    await sweepLater();
    await waitForStatus(hub, id, ALICE, 'SUSPENDED');
    expect(hub.fake.instance(id)?.status).toBe('SUSPENDED');
    expect(effects(id, 'suspend')).toBe(1);
  });
});

describe('a create cut short by a hub crash after its insert was sent', () => {
  it('a retry gives the same workspace and the next sweep no second VM', async () => {
    const headers = { 'idempotency-key': 'create-sent', 'content-type': 'application/json' };
    const listed = (await hub.call('GET', '/workspaces', { as: ALICE })).body.workspaces.length;
    const known = new Set(hub.fake.calls.map((c) => c.instance));
    dyingHub(hub, ALICE, 'create', true)('POST', '/workspaces', headers, '{}');
    const fresh = () => hub.fake.calls.find((c) => c.method === 'insert' && !known.has(c.instance));
    await until(() => fresh() !== undefined);
    const id = fresh()!.instance!;
    expect((await hub.deps.store.get(id))!.operation).toMatchObject({ kind: 'insert', name: null });

    const retry = await hub.call('POST', '/workspaces', { as: ALICE, headers, body: {} });
    expect(retry.status).toBe(202);
    expect(retry.body.id).toBe(id);
    await sweepLater();
    await hub.fake.waitForStatus(id, 'RUNNING');
    await hub.agentReady(id);
    await waitForStatus(hub, id, ALICE, 'READY');
    const after = await hub.call('GET', '/workspaces', { as: ALICE });
    expect(after.body.workspaces.length).toBe(listed + 1);
    expect(effects(id, 'create')).toBe(1);
  });
});

describe('a create cut short after its insert was sent, whose agent never reports', () => {
  it('times out to ERROR at the next sweep past its deadline, not PROVISIONING forever', async () => {
    const known = new Set(hub.fake.calls.map((c) => c.instance));
    dyingHub(hub, ALICE, 'create', true)(
      'POST',
      '/workspaces',
      { 'content-type': 'application/json' },
      '{}',
    );
    const fresh = () => hub.fake.calls.find((c) => c.method === 'insert' && !known.has(c.instance));
    await until(() => fresh() !== undefined);
    const id = fresh()!.instance!;
    await hub.fake.waitForStatus(id, 'RUNNING');

    clock.advance(16 * MIN);
    const sweep = await hub.call('POST', '/cleanup', { as: ADMIN });
    expect(sweep.body).toMatchObject({ repaired: 1, errors: [] });
    expect(await hub.deps.store.get(id)).toMatchObject({
      status: 'ERROR',
      status_reason: expect.stringMatching(/agent did not report ready/),
    });
    expect(effects(id, 'create')).toBe(1);
  });
});
