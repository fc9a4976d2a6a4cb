import { deterministicRequestId } from '@workspace-hub/core';
import { rsaSigner } from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { googleClaims, HUB_URL, manualClock, startTestHub, type TestHub, ZONE } from './harness.js';

const ALICE = 'alice@example.com';
const ADMIN = 'root@example.com';
const SCHEDULER = 'scheduler@p.iam.gserviceaccount.com';
const MIN = 60_000;

const google = rsaSigner();
const clock = manualClock();
let hub: TestHub;

const schedulerToken = (claims: Record<string, unknown> = {}) =>
  google.sign(
    googleClaims(HUB_URL, { sub: '1', email: SCHEDULER, email_verified: true, ...claims }),
  );

async function sweep() {
  const r = await hub.call('POST', '/cleanup', {
    headers: { authorization: `Bearer ${schedulerToken()}` },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

async function readyWorkspace(idleMinutes = 60) {
  const id = (
    await hub.call('POST', '/workspaces', {
      as: ALICE,
      body: { idle_timeout_minutes: idleMinutes },
    })
  ).body.id;
  await hub.fake.waitForStatus(id, 'RUNNING');
  await hub.agentReady(id);
  return id as string;
}

const status = async (id: string) => (await hub.deps.store.get(id))?.status ?? 'GONE';

beforeAll(async () => {
  hub = await startTestHub(
    { HUB_ADMINS: ADMIN, HUB_SCHEDULER_SA: SCHEDULER, HUB_RETENTION_DAYS: '7' },
    { now: clock.now, googleSigner: google },
  );
});
afterAll(() => hub.close());

describe('POST /cleanup', () => {
  it('suspends idle workspaces, spares active and extended ones, and a second sweep does nothing', async () => {
    const idle = await readyWorkspace(60);
    const active = await readyWorkspace(60);
    const extended = await readyWorkspace(60);
    clock.advance(50 * MIN);
    const a = (await hub.deps.store.get(active))!;
    await hub.call('POST', '/agent/heartbeat', {
      headers: { authorization: `Bearer ${hub.identityToken(a)}`, 'x-workspace-id': active },
      body: { workspace_id: active, last_activity_at: clock.now().toISOString(), sessions: 1 },
    });
    const ext = await hub.call('POST', `/workspaces/${extended}/extend`, {
      as: ALICE,
      body: { minutes: 120 },
    });
    expect(Date.parse(ext.body.deadline)).toBeGreaterThan(clock.now().getTime() + 119 * MIN);
    clock.advance(15 * MIN);

    const sentBefore = hub.fake.calls.length;
    const first = await sweep();
    expect(first).toMatchObject({ suspended: 1, errors: [] });
    // The sweep's suspends travel in one batch request, each with its own requestId.
    const sent = hub.fake.calls
      .slice(sentBefore)
      .filter((c) => !/^(get|list|operation\.)/.test(c.method));
    expect(sent.map((c) => [c.method, c.instance])).toEqual([
      ['batch', null],
      ['suspend', idle],
    ]);
    // The same pass may already see the suspend finished (the fake is fast).
    expect(['SUSPENDING', 'SUSPENDED']).toContain(await status(idle));
    expect(await status(active)).toBe('READY');
    expect(await status(extended)).toBe('READY');
    const mutating = () =>
      hub.fake.calls.filter((c) => c.method !== 'get' && c.method !== 'list').length;
    const before = mutating();
    const second = await sweep();
    expect(second).toMatchObject({
      suspended: 0,
      deleted: 0,
      repaired: 0,
      orphans_quarantined: 0,
      errors: [],
    });
    expect(mutating()).toBe(before);
  });

  it.each([
    ['an outage (503)', 503, 'backendError', 'Internal error. Please try again.'],
    ['its rate limit', 403, 'rateLimitExceeded', 'Rate Limit Exceeded'],
  ])(
    'leaves a workspace GCE did not take the suspend for (%s) READY, and the next sweep suspends it',
    async (_, httpStatus, reason, message) => {
      // Due alone: the first test's workspaces are not due for half an hour yet.
      const id = await readyWorkspace(5);
      clock.advance(6 * MIN);
      hub.fake.rejectNext('suspend', httpStatus, reason, message);
      const first = await sweep();
      expect(first.suspended).toBe(0);
      expect(first.errors).toEqual([
        { workspace_id: id, action: 'suspend', message: expect.stringContaining(message) },
      ]);
      // Not ERROR: that would leave the VM running with nothing left to suspend it.
      const ws = (await hub.deps.store.get(id))!;
      expect(ws).toMatchObject({ status: 'READY', error: null, operation: null });
      expect(Date.parse(ws.deadline!)).toBeLessThan(clock.now().getTime());
      expect((await hub.deps.driver.get(ZONE, id))?.status).toBe('RUNNING');
      const second = await sweep();
      expect(second).toMatchObject({ suspended: 1, errors: [] });
      await hub.fake.waitForStatus(id, 'SUSPENDED');
    },
  );

  it('never leaves a running VM marked SUSPENDED (or the reverse) when users race the sweep', async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => readyWorkspace(30)));
    clock.advance(31 * MIN);
    await Promise.all([
      sweep(),
      ...ids.map((id, i) =>
        i % 2
          ? hub.call('POST', `/workspaces/${id}/connect`, {
              as: ALICE,
              body: { device_id: 'laptop' },
            })
          : hub.call('POST', `/workspaces/${id}/start`, { as: ALICE }),
      ),
    ]);
    for (const id of ids) {
      const ws = (await hub.deps.store.get(id))!;
      await hub.fake.waitForSettled(id);
      const inst = await hub.deps.driver.get(ZONE, id);
      if (ws.status === 'READY') expect(inst?.status).toBe('RUNNING');
      else {
        expect(['SUSPENDING', 'SUSPENDED']).toContain(ws.status);
        expect(inst?.status).toBe('SUSPENDED');
      }
    }
  });

  it('repairs stuck transitions and deletes long-suspended workspaces', async () => {
    // An agent that never reports: PROVISIONING past its timeout becomes ERROR.
    const silent = (await hub.call('POST', '/workspaces', { as: ALICE })).body.id;
    await hub.fake.waitForStatus(silent, 'RUNNING');
    // A finished suspend nobody observed: SUSPENDING becomes SUSPENDED.
    const suspended = await readyWorkspace();
    await hub.call('POST', `/workspaces/${suspended}/stop`, { as: ALICE });
    await hub.fake.waitForStatus(suspended, 'SUSPENDED');
    clock.advance(16 * MIN);
    const r = await sweep();
    expect(r.repaired).toBeGreaterThanOrEqual(2);
    expect(await status(silent)).toBe('ERROR');
    expect((await hub.deps.store.get(silent))!.status_reason).toMatch(/agent did not report ready/);
    expect(await status(suspended)).toBe('SUSPENDED');

    clock.advance(8 * 24 * 60 * MIN);
    const later = await sweep();
    expect(later.deleted).toBeGreaterThanOrEqual(1);
    expect(['DELETING', 'GONE']).toContain(await status(suspended));
    await hub.fake.waitForGone(suspended);
  });

  it('quarantines an orphan after the grace period, keeps it, and deletes it only when an admin asks', async () => {
    const orphan = 'ws-orphan2345';
    await hub.deps.driver.create(
      {
        name: orphan,
        zone: ZONE,
        machineType: 'e2-small',
        diskSizeGb: 10,
        userData: '#cloud-config\n{}\n',
        image: 'x',
        labels: { 'workspace-hub': 'true', 'workspace-id': orphan },
      },
      deterministicRequestId('orphan-test'),
    );
    await hub.fake.waitForStatus(orphan, 'RUNNING');
    const first = await sweep();
    expect(first.orphans_seen).toBe(1);
    expect(first.orphans_quarantined).toBe(0);
    expect(first.orphans).toEqual([
      { zone: ZONE, name: orphan, first_seen: expect.any(String), quarantined: false },
    ]);
    expect(hub.fake.instance(orphan)?.status).toBe('RUNNING');
    // Not yet quarantined: an admin cannot delete it either.
    const early = await hub.call('DELETE', `/admin/orphans/${ZONE}/${orphan}`, { as: ADMIN });
    expect(early.status).toBe(409);

    clock.advance(31 * MIN);
    const second = await sweep();
    expect(second.orphans_quarantined, JSON.stringify(second)).toBe(1);
    expect(second.orphans).toMatchObject([{ name: orphan, quarantined: true }]);
    // Stopped and labelled, not deleted: its disks are still there.
    await hub.fake.waitForStatus(orphan, 'TERMINATED');
    expect(hub.fake.instance(orphan)?.labels).toMatchObject({
      'workspace-hub': 'true',
      'workspace-hub-quarantined': 'true',
    });
    expect(hub.fake.calls.some((c) => c.method === 'delete' && c.instance === orphan)).toBe(false);

    // Days later it is still there, reported, and nothing more is done to it.
    clock.advance(3 * 24 * 60 * MIN);
    const third = await sweep();
    expect(third).toMatchObject({ orphans_quarantined: 0, errors: [] });
    expect(third.orphans).toMatchObject([{ name: orphan, quarantined: true }]);
    expect(hub.fake.instance(orphan)?.status).toBe('TERMINATED');

    // Only an admin's explicit call deletes it; to anyone else the route does not exist.
    const byAlice = await hub.call('DELETE', `/admin/orphans/${ZONE}/${orphan}`, { as: ALICE });
    expect(byAlice.status).toBe(404);
    expect(hub.fake.instance(orphan)).toBeDefined();
    const bad = await hub.call('DELETE', `/admin/orphans/${ZONE}/Not_A_Name`, { as: ADMIN });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('instance');
    const byAdmin = await hub.call('DELETE', `/admin/orphans/${ZONE}/${orphan}`, { as: ADMIN });
    expect(byAdmin.status, JSON.stringify(byAdmin.body)).toBe(202);
    await hub.fake.waitForGone(orphan);
    expect((await sweep()).orphans).toEqual([]);
  });

  it('refuses to delete, as an orphan, an instance whose workspace exists', async () => {
    const id = await readyWorkspace(600);
    const r = await hub.call('DELETE', `/admin/orphans/${ZONE}/${id}`, { as: ADMIN });
    expect(r.status).toBe(409);
    expect(hub.fake.instance(id)?.status).toBe('RUNNING');
  });

  it('accepts only the Scheduler’s verified token or an admin', async () => {
    const other = rsaSigner();
    const cases = [
      ['wrong audience', schedulerToken({ aud: 'https://elsewhere' }), 401],
      ['expired', schedulerToken({ iat: 1_600_000_000, exp: 1_600_003_600 }), 401],
      [
        'other signer',
        other.sign(googleClaims(HUB_URL, { sub: '1', email: SCHEDULER, email_verified: true })),
        401,
      ],
      [
        'other service account',
        google.sign(googleClaims(HUB_URL, { sub: '2', email: 'x@p.iam.gserviceaccount.com' })),
        401,
      ],
    ] as const;
    for (const [what, token, code] of cases) {
      const r = await hub.call('POST', '/cleanup', {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(r.status, what).toBe(code);
    }
    // Behind Cloud Run IAM the Scheduler's token arrives stripped, which only cloud-run-iam trusts.
    const [header, payload] = schedulerToken().split('.');
    const stripped = await hub.call('POST', '/cleanup', {
      headers: { authorization: `Bearer ${header}.${payload}.SIGNATURE_REMOVED_BY_GOOGLE` },
    });
    expect(stripped.status).toBe(401);
    expect(stripped.body.detail).toContain('HUB_AUTH=cloud-run-iam');
    expect((await hub.call('POST', '/cleanup', { as: ALICE })).status).toBe(403);
    expect((await hub.call('POST', '/cleanup', { as: ADMIN })).status).toBe(200);
    expect((await hub.call('POST', '/cleanup')).status).toBe(401);
  });
});
