import { DELETED_WORKSPACES, EVENTS, WORKSPACES } from '@workspace-hub/core';
import { rsaSigner } from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  googleClaims,
  HUB_URL,
  manualClock,
  startTestHub,
  type TestHub,
  waitForStatus,
} from './harness.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const ADMIN = 'root@example.com';
const SCHEDULER = 'scheduler@p.iam.gserviceaccount.com';
const MIN = 60_000;
const RETENTION_DAYS = 3;

const google = rsaSigner();
const clock = manualClock();
let hub: TestHub;

async function sweep() {
  const token = google.sign(
    googleClaims(HUB_URL, { sub: '1', email: SCHEDULER, email_verified: true }),
  );
  const r = await hub.call('POST', '/cleanup', { headers: { authorization: `Bearer ${token}` } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

async function readyWorkspace(idleMinutes = 60) {
  const r = await hub.call('POST', '/workspaces', {
    as: ALICE,
    body: { idle_timeout_minutes: idleMinutes, device_id: 'alice-laptop' },
  });
  expect(r.status).toBe(202);
  await hub.fake.waitForStatus(r.body.id, 'RUNNING');
  await hub.agentReady(r.body.id);
  return r.body.id as string;
}

async function events(id: string, as = ALICE, query = '') {
  const r = await hub.call('GET', `/workspaces/${id}/events${query}`, { as });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as { events: Array<Record<string, unknown>>; next_page_token: string | null };
}

const stored = async (id: string) =>
  (await hub.deps.db.collection(WORKSPACES).doc(id).collection(EVENTS).get()).size;
const storedIds = async (id: string) =>
  (await hub.deps.db.collection(WORKSPACES).doc(id).collection(EVENTS).get()).docs.map((d) => d.id);

beforeAll(async () => {
  hub = await startTestHub(
    {
      HUB_ADMINS: ADMIN,
      HUB_SCHEDULER_SA: SCHEDULER,
      HUB_EVENTS_RETENTION_DAYS: String(RETENTION_DAYS),
      // As `npm start` runs it: the emulator has no TTL policy, so the sweep deletes expired events.
      FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST,
    } as Record<string, string>,
    { now: clock.now, googleSigner: google },
  );
});
afterAll(() => hub.close());

describe('GET /workspaces/:id/events', () => {
  it('records each step with its actor, newest first: create, ready, a stop from a device, its end, a start', async () => {
    const id = await readyWorkspace();
    const stop = await hub.call('POST', `/workspaces/${id}/stop`, {
      as: ALICE,
      headers: { 'x-device-id': 'alice-phone' },
    });
    expect(stop.body.status_reason).toBe(`suspended by ${ALICE} from alice-phone`);
    await hub.fake.waitForStatus(id, 'SUSPENDED');
    const seen = await hub.call('GET', `/workspaces/${id}/status`, { as: ALICE });
    expect(seen.body.workspace.status).toBe('SUSPENDED');
    await hub.call('POST', `/workspaces/${id}/start`, { as: ALICE });
    await hub.fake.waitForStatus(id, 'RUNNING');
    await hub.agentReady(id);

    const page = await events(id);
    expect(page.next_page_token).toBeNull();
    expect(
      page.events.map((e) => [
        e.action,
        e.outcome,
        (e.actor as { kind: string }).kind,
        e.status_before,
        e.status_after,
      ]),
    ).toEqual([
      ['start', 'succeeded', 'agent', 'RESUMING', 'READY'],
      ['start', 'accepted', 'owner', 'SUSPENDED', 'RESUMING'],
      ['stop', 'succeeded', 'reconcile', 'SUSPENDING', 'SUSPENDED'],
      ['stop', 'accepted', 'owner', 'READY', 'SUSPENDING'],
      ['create', 'succeeded', 'agent', 'PROVISIONING', 'READY'],
      ['create', 'accepted', 'owner', null, 'PROVISIONING'],
    ]);
    expect(page.events[3]!.actor).toEqual({
      kind: 'owner',
      email: ALICE,
      device_id: 'alice-phone',
    });
    expect(page.events[5]!.actor).toEqual({
      kind: 'owner',
      email: ALICE,
      device_id: 'alice-laptop',
    });
    expect(page.events[2]!.actor).toEqual({
      kind: 'reconcile',
      via: 'status-read',
      instance_status: 'SUSPENDED',
    });
  });

  it('the idle sweep leaves a reason and an event with the idle time it measured', async () => {
    const id = await readyWorkspace(60);
    clock.advance(4 * 60 * MIN + 5 * MIN);
    const sweepFrom = clock.now().getTime();
    expect((await sweep()).errors).toEqual([]);
    const sweepTo = clock.now().getTime();
    const ws = (await hub.deps.store.get(id))!;
    expect(ws.status_reason).toBe('suspended after 4 h 5 min idle');
    const [latest] = (await events(id)).events;
    // On the sweep's clock (the hub's, 4 h ahead here), the one it measured the idle time with.
    const at = Date.parse(String(latest?.at));
    expect(at).toBeGreaterThanOrEqual(sweepFrom);
    expect(at).toBeLessThanOrEqual(sweepTo);
    expect(latest).toMatchObject({
      action: 'stop',
      outcome: 'accepted',
      actor: { kind: 'idle_sweep', idle_minutes: 245 },
      status_before: 'READY',
      status_after: 'SUSPENDING',
      reason: 'suspended after 4 h 5 min idle',
      error: null,
    });
  });

  it('reconcile after drift leaves a reason and an event with what it saw', async () => {
    const id = await readyWorkspace();
    hub.fake.setStatus(id, 'TERMINATED');
    const r = await hub.call('GET', `/workspaces/${id}/status`, { as: ALICE });
    expect(r.body.workspace).toMatchObject({
      status: 'SUSPENDED',
      status_reason: 'reconciled: VM was TERMINATED outside the hub',
    });
    const [latest] = (await events(id)).events;
    expect(latest).toMatchObject({
      action: 'reconcile',
      outcome: 'succeeded',
      actor: { kind: 'reconcile', via: 'status-read', instance_status: 'TERMINATED' },
      status_before: 'READY',
      status_after: 'SUSPENDED',
      reason: 'reconciled: VM was TERMINATED outside the hub',
    });
  });

  it("attributes an admin's action to the admin, not the owner", async () => {
    const id = await readyWorkspace();
    const r = await hub.call('POST', `/workspaces/${id}/stop`, {
      as: ADMIN,
      headers: { 'x-device-id': 'ops-console' },
    });
    expect(r.status).toBe(202);
    expect(r.body.status_reason).toBe(`suspended by ${ADMIN} from ops-console`);
    const [latest] = (await events(id, ADMIN)).events;
    expect(latest).toMatchObject({
      action: 'stop',
      outcome: 'accepted',
      actor: { kind: 'admin', email: ADMIN, device_id: 'ops-console' },
    });
    // The owner sees the same history.
    expect((await events(id, ALICE)).events[0]).toEqual(latest);
  });

  it('records a call Compute Engine refused as failed, with its error code', async () => {
    const id = await readyWorkspace();
    hub.fake.rejectNext('suspend', 503, 'backendError', 'Internal error. Please try again.');
    const r = await hub.call('POST', `/workspaces/${id}/stop`, { as: ALICE });
    expect(r.status).toBe(503);
    const [failed, accepted] = (await events(id)).events;
    expect(accepted).toMatchObject({ action: 'stop', outcome: 'accepted' });
    expect(failed).toMatchObject({
      action: 'stop',
      outcome: 'failed',
      actor: { kind: 'owner', email: ALICE },
      status_before: 'SUSPENDING',
      status_after: 'READY',
      error: { code: 'upstream_unavailable' },
    });
  });

  it('pages newest first with an opaque token, and refuses a token it did not issue', async () => {
    const id = await readyWorkspace();
    for (let i = 0; i < 2; i++) {
      await hub.call('POST', `/workspaces/${id}/stop`, { as: ALICE });
      await hub.fake.waitForStatus(id, 'SUSPENDED');
      await hub.call('GET', `/workspaces/${id}/status`, { as: ALICE });
      await hub.call('POST', `/workspaces/${id}/start`, { as: ALICE });
      await hub.fake.waitForStatus(id, 'RUNNING');
      await hub.agentReady(id);
    }
    const all = (await events(id, ALICE, '?limit=100')).events;
    expect(all).toHaveLength(10);
    const ats = all.map((e) => Date.parse(e.at as string));
    expect([...ats].sort((a, b) => b - a)).toEqual(ats);

    const paged: unknown[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const q: string = `?limit=3${token ? `&page_token=${encodeURIComponent(token)}` : ''}`;
      const page = await events(id, ALICE, q);
      expect(page.events.length).toBeLessThanOrEqual(3);
      paged.push(...page.events);
      token = page.next_page_token;
      pages++;
    } while (token);
    expect(pages).toBe(4);
    expect(paged).toEqual(all);

    for (const bad of [
      'nope',
      Buffer.from('{"c":"2026-01-01T00:00:00.000Z","i":"x"}').toString('base64url'),
    ]) {
      const r = await hub.call('GET', `/workspaces/${id}/events?page_token=${bad}`, { as: ALICE });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 'invalid_argument', field: 'page_token' });
    }
    const tooMany = await hub.call('GET', `/workspaces/${id}/events?limit=101`, { as: ALICE });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.field).toBe('limit');
  });

  it("is another user's 404, exactly as for a workspace that does not exist", async () => {
    const id = await readyWorkspace();
    const theirs = await hub.call('GET', `/workspaces/${id}/events`, { as: BOB });
    const none = await hub.call('GET', '/workspaces/ws-aaaaaaaaaa/events', { as: BOB });
    expect(theirs.status).toBe(404);
    expect(none.status).toBe(404);
    expect(theirs.body.code).toBe(none.body.code);
  });

  it("deletes a workspace's events with it, and the sweep removes those a stopped hub left", async () => {
    const id = await readyWorkspace();
    expect(await stored(id)).toBeGreaterThan(0);
    await hub.call('DELETE', `/workspaces/${id}`, { as: ALICE });
    await hub.fake.waitForGone(id);
    await waitForStatus(hub, id, ALICE, 'GONE');
    expect(await stored(id)).toBe(0);
    expect((await hub.deps.db.collection(DELETED_WORKSPACES).doc(id).get()).exists).toBe(false);

    // A hub that stopped right after removing the document left its events and their marker.
    const left = await readyWorkspace();
    const before = await stored(left);
    await hub.deps.db.collection(WORKSPACES).doc(left).delete();
    await hub.deps.db.collection(DELETED_WORKSPACES).doc(left).set({ removed_at: new Date() });
    const summary = await sweep();
    expect(summary.events_deleted).toBeGreaterThanOrEqual(before);
    expect(await stored(left)).toBe(0);
    expect((await hub.deps.db.collection(DELETED_WORKSPACES).doc(left).get()).exists).toBe(false);
  });

  // Last: it moves the clock past the retention period.
  it('never lists an expired event, and the sweep deletes them where no TTL policy runs', async () => {
    const id = await readyWorkspace();
    expect((await events(id)).events.length).toBeGreaterThan(0);
    clock.advance(RETENTION_DAYS * 24 * 60 * MIN + MIN);
    // Firestore's TTL deletes within a day or so, not at once: until then they must not show.
    const expired = await storedIds(id);
    expect(expired.length).toBeGreaterThan(0);
    expect((await events(id)).events).toEqual([]);
    await sweep();
    // Only those: the sweep suspends the idle workspace too, and that event is its own, dated
    // by the sweep's clock, so neither expired nor deleted.
    expect((await storedIds(id)).filter((e) => expired.includes(e))).toEqual([]);
    expect((await events(id)).events).toMatchObject([
      { actor: { kind: 'idle_sweep' }, action: 'stop', status_after: 'SUSPENDING' },
    ]);
  });
});
