import { STOPPED_BEFORE_LIMIT } from '@workspace-hub/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock, startTestHub, type TestHub } from './harness.js';

const ALICE = 'alice@example.com';
const ADMIN = 'root@example.com';
const DAY = 86_400_000;

const clock = manualClock();
let stopping: TestHub;
let deleting: TestHub;

async function suspendedWorkspace(hub: TestHub): Promise<string> {
  const id = (await hub.call('POST', '/workspaces', { as: ALICE, body: {} })).body.id as string;
  await hub.fake.waitForStatus(id, 'RUNNING');
  await hub.agentReady(id);
  await hub.call('POST', `/workspaces/${id}/stop`, { as: ALICE });
  await hub.fake.waitForStatus(id, 'SUSPENDED');
  // Reconcile-on-read sees the suspend finished.
  expect(await liveStatus(hub, id)).toMatchObject({ status: 'SUSPENDED' });
  return id;
}

/** `GET …/status`: reconciles with Compute Engine first, answers the workspace. */
async function liveStatus(hub: TestHub, id: string) {
  return (await hub.call('GET', `/workspaces/${id}/status`, { as: ALICE })).body.workspace;
}

async function sweep(hub: TestHub) {
  const r = await hub.call('POST', '/cleanup', { as: ADMIN });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

beforeAll(async () => {
  [stopping, deleting] = await Promise.all([
    startTestHub({ HUB_ADMINS: ADMIN }, { now: clock.now }),
    startTestHub({ HUB_ADMINS: ADMIN, HUB_SUSPENDED_LIMIT_ACTION: 'delete' }, { now: clock.now }),
  ]);
});
afterAll(() => Promise.all([stopping.close(), deleting.close()]));

describe('Compute Engine’s 60-day limit on suspended VMs', () => {
  it('shows when the sweep will act, then resumes and stops the VM cleanly a day before the limit', async () => {
    const id = await suspendedWorkspace(stopping);
    const ws = (await stopping.call('GET', `/workspaces/${id}`, { as: ALICE })).body;
    const inDays = (Date.parse(ws.deadline) - clock.now().getTime()) / DAY;
    expect(inDays).toBeGreaterThan(58.99);
    expect(inDays).toBeLessThanOrEqual(59);

    clock.advance(58 * DAY);
    expect((await sweep(stopping)).stopped_at_limit).toBe(0);
    clock.advance(DAY + 60_000);
    const r = await sweep(stopping);
    expect(r).toMatchObject({ stopped_at_limit: 1, errors: [] });
    // Resumed first, so the guest shuts down; never stopped while suspended.
    const calls = stopping.fake.calls
      .filter((c) => c.instance === id && ['suspend', 'resume', 'stop'].includes(c.method))
      .map((c) => c.method);
    expect(calls).toEqual(['suspend', 'resume', 'stop']);
    await stopping.fake.waitForStatus(id, 'TERMINATED');
    const after = await liveStatus(stopping, id);
    expect(after).toMatchObject({
      status: 'SUSPENDED',
      status_reason: STOPPED_BEFORE_LIMIT,
      deadline: null,
    });
    // Done: the next sweep leaves it alone.
    expect((await sweep(stopping)).stopped_at_limit).toBe(0);
  });

  it('says so when Compute Engine terminated a suspended VM itself', async () => {
    const id = await suspendedWorkspace(stopping);
    stopping.fake.setStatus(id, 'TERMINATED');
    const ws = await liveStatus(stopping, id);
    expect(ws).toMatchObject({ status: 'SUSPENDED', deadline: null });
    expect(ws.status_reason).toMatch(/60 days.*memory and open terminals are gone/);
  });

  it('deletes the workspace at the limit when HUB_SUSPENDED_LIMIT_ACTION=delete', async () => {
    const id = await suspendedWorkspace(deleting);
    clock.advance(59 * DAY + 60_000);
    expect(await sweep(deleting)).toMatchObject({ deleted: 1, stopped_at_limit: 0, errors: [] });
    await deleting.fake.waitForGone(id);
  });
});
