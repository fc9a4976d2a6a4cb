import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub, waitForStatus } from './harness.js';

const ALICE = 'alice@example.com';
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub.close());

async function createReady(body: Record<string, unknown> = {}) {
  const created = await hub.call('POST', '/workspaces', { as: ALICE, body });
  expect(created.status).toBe(202);
  await hub.fake.waitForStatus(created.body.id, 'RUNNING');
  expect((await hub.agentReady(created.body.id)).status).toBe(200);
  return created.body.id as string;
}

describe('workspace lifecycle', () => {
  it('goes PROVISIONING → READY → SUSPENDED → READY → gone, one GCE call per step', async () => {
    const created = await hub.call('POST', '/workspaces', {
      as: ALICE,
      body: { repo: 'https://github.com/acme/app', branch: 'main', device_id: 'laptop-1' },
    });
    expect(created.status).toBe(202);
    const id = created.body.id;
    expect(id).toMatch(/^ws-[a-z2-7]{10}$/);
    expect(created.body).toMatchObject({
      status: 'PROVISIONING',
      owner_email: ALICE,
      metadata: { repo: 'https://github.com/acme/app', branch: 'main', device_id: 'laptop-1' },
      machine_type: 'e2-standard-4',
    });

    // Running VM without an agent report is not READY yet.
    await hub.fake.waitForStatus(id, 'RUNNING');
    expect((await hub.call('GET', `/workspaces/${id}/status`, { as: ALICE })).body).toMatchObject({
      workspace: { status: 'PROVISIONING' },
      instance_status: 'RUNNING',
    });

    expect((await hub.agentReady(id)).status).toBe(200);
    const ready = await hub.call('GET', `/workspaces/${id}`, { as: ALICE });
    expect(ready.body.status).toBe('READY');
    expect(ready.body.agent.host_key_fingerprint).toMatch(/^SHA256:/);
    expect(Date.parse(ready.body.deadline)).toBeGreaterThan(Date.now() + 230 * 60_000);
    expect(ready.headers.get('etag')).toBe(`"${ready.body.version}"`);

    const stop = await hub.call('POST', `/workspaces/${id}/stop`, { as: ALICE });
    expect(stop.status, JSON.stringify(stop.body)).toBe(202);
    expect(stop.body.status).toBe('SUSPENDING');
    const suspended = await waitForStatus(hub, id, ALICE, 'SUSPENDED');
    expect(suspended.instance_status).toBe('SUSPENDED');

    const start = await hub.call('POST', `/workspaces/${id}/start`, { as: ALICE });
    expect(start.status).toBe(202);
    expect(start.body.status).toBe('RESUMING');
    await hub.fake.waitForStatus(id, 'RUNNING');
    // RESUMING ends only when the resumed agent reports ready again.
    expect(
      (await hub.call('GET', `/workspaces/${id}/status`, { as: ALICE })).body.workspace.status,
    ).toBe('RESUMING');
    await hub.agentReady(id);
    expect((await hub.call('GET', `/workspaces/${id}`, { as: ALICE })).body.status).toBe('READY');

    const del = await hub.call('DELETE', `/workspaces/${id}`, { as: ALICE });
    expect(del.status).toBe(202);
    expect(del.body.status).toBe('DELETING');
    await waitForStatus(hub, id, ALICE, 'GONE');
    expect((await hub.call('GET', `/workspaces/${id}`, { as: ALICE })).status).toBe(404);

    const calls = hub.fake.calls.filter((c) => c.instance === id).map((c) => c.method);
    expect(calls.filter((m) => m !== 'get')).toEqual(['insert', 'suspend', 'resume', 'delete']);
  });

  it('makes exactly one GCE call for 20 concurrent start/stop requests', async () => {
    const id = await createReady();
    const before = hub.fake.calls.length;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        hub.call('POST', `/workspaces/${id}/${i % 2 ? 'start' : 'stop'}`, { as: ALICE }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
    for (const r of results.filter((r) => r.status === 409)) {
      expect(r.body).toMatchObject({ code: 'conflict', current_status: 'SUSPENDING' });
    }
    const mutating = hub.fake.calls
      .slice(before)
      .filter((c) => c.instance === id && c.method !== 'get');
    expect(mutating.map((c) => c.method)).toEqual(['suspend']);
    const done = await waitForStatus(hub, id, ALICE, 'SUSPENDED');
    expect(done.instance_status).toBe('SUSPENDED');
  });

  it('returns the first workspace for a retried create with the same Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'create-123' };
    const [a, b] = await Promise.all([
      hub.call('POST', '/workspaces', { as: ALICE, body: { repo: 'r' }, headers }),
      hub.call('POST', '/workspaces', { as: ALICE, body: { repo: 'r' }, headers }),
    ]);
    const c = await hub.call('POST', '/workspaces', { as: ALICE, body: { repo: 'r' }, headers });
    expect([a.status, b.status, c.status]).toEqual([202, 202, 202]);
    expect(b.body.id).toBe(a.body.id);
    expect(c.body.id).toBe(a.body.id);
    expect(
      hub.fake.calls.filter((x) => x.method === 'insert' && x.instance === a.body.id),
    ).toHaveLength(1);
    // The same key with another request is refused, not answered with the first workspace.
    const other = await hub.call('POST', '/workspaces', {
      as: ALICE,
      body: { repo: 'another' },
      headers,
    });
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({ code: 'invalid_argument', field: 'idempotency-key' });
  });

  it('stops instead of suspending when GCE refuses suspend, and says why', async () => {
    const id = await createReady();
    hub.fake.refuseSuspend(id, 'Instances with guest accelerators do not support suspend.');
    const stop = await hub.call('POST', `/workspaces/${id}/stop`, { as: ALICE });
    expect(stop.status).toBe(202);
    expect(stop.body.status_reason).toMatch(/accelerators/);
    const done = await waitForStatus(hub, id, ALICE, 'SUSPENDED');
    expect(done.instance_status).toBe('TERMINATED');
    expect(done.workspace.status_reason).toMatch(/stopped instead/i);
  });

  it('moves the workspace to ERROR with GCE’s message when an operation fails', async () => {
    hub.fake.failNextOperation('insert', {
      code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
      message: 'The zone does not have enough resources',
    });
    const created = await hub.call('POST', '/workspaces', { as: ALICE });
    expect(created.status).toBe(202);
    const err = await waitForStatus(hub, created.body.id, ALICE, 'ERROR');
    expect(err.workspace.error).toEqual({
      code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
      message: expect.stringContaining('enough resources'),
    });
    // A workspace whose VM never came to be cannot be started: the answer says what to do.
    const start = await hub.call('POST', `/workspaces/${created.body.id}/start`, { as: ALICE });
    expect(start.status).toBe(409);
    expect(start.body.detail).toMatch(/no VM any more.*delete it/);
    expect((await hub.call('DELETE', `/workspaces/${created.body.id}`, { as: ALICE })).status).toBe(
      202,
    );
  });

  it('refuses a transition that makes no sense with 409 and the current status', async () => {
    const created = await hub.call('POST', '/workspaces', { as: ALICE });
    const stop = await hub.call('POST', `/workspaces/${created.body.id}/stop`, { as: ALICE });
    expect(stop.status).toBe(409);
    expect(stop.headers.get('content-type')).toBe('application/problem+json');
    expect(stop.body).toMatchObject({
      status: 409,
      code: 'conflict',
      current_status: 'PROVISIONING',
    });
  });
});
