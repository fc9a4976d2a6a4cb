import type { Workspace, WorkspaceStatus } from '@workspace-hub/api';
import { describe, expect, it } from 'vitest';
import type { InstanceState, InstanceStatus } from './compute/driver.js';
import { RESTORED_REASON } from './compute/local-driver.js';
import { reconcile } from './reconcile.js';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const MIN = 60_000;

function ws(status: WorkspaceStatus, over: Partial<Workspace> = {}): Workspace {
  return {
    id: 'ws-abcdefghij',
    name: 'app',
    owner_id: 'u',
    owner_email: 'u@example.com',
    instance_name: 'ws-abcdefghij',
    zone: 'europe-west1-b',
    project_id: 'p',
    image_tag: 'v1',
    machine_type: 'e2-standard-4',
    disk_size_gb: 50,
    status,
    status_reason: null,
    last_connected_at: null,
    last_activity_at: iso(0),
    last_device_id: null,
    idle_timeout_minutes: 60,
    deadline: null,
    metadata: { repo: null, branch: null, device_id: null },
    agent: null,
    operation: { name: 'op-1', kind: 'insert', started_at: iso(0) },
    error: null,
    created_at: iso(0),
    updated_at: iso(0),
    version: 3,
    ...over,
  };
}
const inst = (status: InstanceStatus, statusMessage?: string): InstanceState => ({
  name: 'ws-abcdefghij',
  zone: 'europe-west1-b',
  status,
  labels: {},
  ...(statusMessage ? { statusMessage } : {}),
});
const at = (ms: number) => new Date(T0 + ms);
const agent = (readyMs: number) => ({
  host_key_fingerprint: 'SHA256:x',
  version: '1',
  ready_at: iso(readyMs),
});

describe('reconcile', () => {
  it('keeps PROVISIONING until the agent has reported, then READY with a deadline', () => {
    expect(reconcile(ws('PROVISIONING'), { instance: inst('RUNNING'), now: at(MIN) })).toBeNull();
    const m = reconcile(ws('PROVISIONING', { agent: agent(30_000) }), {
      instance: inst('RUNNING'),
      now: at(MIN),
    });
    expect(m).toMatchObject({ status: 'READY', operation: null, deadline: iso(61 * MIN) });
  });

  it('does not take an agent report from before a resume as the end of RESUMING', () => {
    const resuming = ws('RESUMING', {
      agent: agent(0),
      operation: { name: 'op', kind: 'resume', started_at: iso(10 * MIN) },
    });
    expect(reconcile(resuming, { instance: inst('RUNNING'), now: at(11 * MIN) })).toBeNull();
  });

  it('turns an overdue transition into ERROR with the reason', () => {
    const m = reconcile(ws('PROVISIONING'), { instance: inst('RUNNING'), now: at(16 * MIN) });
    expect(m).toMatchObject({ status: 'ERROR', error: { code: 'timeout' } });
    expect((m as Workspace).status_reason).toMatch(/agent did not report ready after 15 minutes/);
  });

  it('reports a failed operation with GCE’s message', () => {
    const m = reconcile(ws('PROVISIONING'), {
      instance: null,
      operation: { done: true, error: { code: 'QUOTA_EXCEEDED', message: 'CPUS quota' } },
      now: at(MIN),
    });
    expect(m).toMatchObject({
      status: 'ERROR',
      error: { code: 'QUOTA_EXCEEDED', message: 'insert failed: CPUS quota' },
    });
  });

  it('finishes SUSPENDING on SUSPENDED or TERMINATED (the stop fallback)', () => {
    const s = ws('SUSPENDING', { operation: { name: 'op', kind: 'stop', started_at: iso(0) } });
    expect(reconcile(s, { instance: inst('STOPPING'), now: at(MIN) })).toBeNull();
    expect(reconcile(s, { instance: inst('TERMINATED'), now: at(MIN) })).toMatchObject({
      status: 'SUSPENDED',
    });
    expect(reconcile(s, { instance: inst('SUSPENDED'), now: at(MIN) })).toMatchObject({
      status: 'SUSPENDED',
    });
  });

  it('gives a workspace suspended with its memory a deadline a day before GCE’s 60-day limit', () => {
    const s = ws('SUSPENDING', { operation: { name: 'op', kind: 'suspend', started_at: iso(0) } });
    expect(reconcile(s, { instance: inst('SUSPENDED'), now: at(MIN) })).toMatchObject({
      status: 'SUSPENDED',
      deadline: iso(MIN + 59 * 86_400_000),
    });
    // Stopped instead (the fallback): no memory to lose, nothing for the sweep to do.
    expect(reconcile(s, { instance: inst('TERMINATED'), now: at(MIN) })).toMatchObject({
      deadline: null,
    });
  });

  it('says so when a suspended VM is terminated (GCE’s 60 days), once', () => {
    const suspended = ws('SUSPENDED', { operation: null, deadline: iso(59 * 86_400_000) });
    const m = reconcile(suspended, { instance: inst('TERMINATED'), now: at(60 * 86_400_000) });
    expect(m).toEqual({ status_reason: expect.stringMatching(/memory .* gone/), deadline: null });
    const after = { ...suspended, ...(m as object), deadline: null };
    expect(reconcile(after, { instance: inst('TERMINATED'), now: at(61 * 86_400_000) })).toBeNull();
  });

  it('notices changes made outside the hub', () => {
    const ready = ws('READY', { operation: null });
    expect(
      reconcile(ready, { instance: inst('TERMINATED', 'Instance was preempted.'), now: at(MIN) }),
    ).toMatchObject({
      status: 'SUSPENDED',
      status_reason: 'reconciled: VM was TERMINATED outside the hub (Instance was preempted.)',
    });
    expect(reconcile(ready, { instance: null, now: at(MIN) })).toMatchObject({ status: 'ERROR' });
    expect(
      reconcile(ws('SUSPENDED', { operation: null }), { instance: inst('RUNNING'), now: at(MIN) }),
    ).toMatchObject({
      status: 'RESUMING',
    });
  });

  it("says plainly that the backend's own stop ended it, not someone outside the hub", () => {
    // Local mode after Ctrl-C and `npm start`: the hub's stop ended the agent.
    const stopped = { ...inst('TERMINATED'), stopReason: RESTORED_REASON };
    const m = reconcile(ws('READY', { operation: null }), { instance: stopped, now: at(MIN) });
    expect(m).toMatchObject({ status: 'SUSPENDED', status_reason: RESTORED_REASON });
    expect(RESTORED_REASON).toMatch(/^stopped when the local hub stopped/);
    const suspended = ws('SUSPENDED', { operation: null, deadline: iso(MIN) });
    expect(reconcile(suspended, { instance: stopped, now: at(MIN) })).toMatchObject({
      status_reason: RESTORED_REASON,
    });
  });

  it('deletes the document once the instance is gone, and is idempotent', () => {
    const deleting = ws('DELETING', {
      operation: { name: 'op', kind: 'delete', started_at: iso(0) },
    });
    expect(reconcile(deleting, { instance: null, now: at(MIN) })).toBe('delete');
    expect(reconcile(deleting, { instance: inst('STOPPING'), now: at(MIN) })).toBeNull();
    const ready = ws('READY', { operation: null });
    expect(reconcile(ready, { instance: inst('RUNNING'), now: at(MIN) })).toBeNull();
  });
});
