import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGceDriver, WorkspaceStore } from '@workspace-hub/core';
import { type ComputeFake, startComputeFake } from '@workspace-hub/testing';
import { testFirestore } from '@workspace-hub/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLogEvent } from './audit-event.js';
import { runningWorkspace, ZONE } from './running-workspace.js';

const { db, projectId } = testFirestore();
const store = new WorkspaceStore(db);
let fake: ComputeFake;
let server: Server;
let url: string;
let driver: ReturnType<typeof createGceDriver>;

const auditEvent = (methodName: string, instance: string, extra: Record<string, unknown> = {}) =>
  auditLogEvent({ projectId, zone: ZONE, methodName, instance, extra });

async function deliver(event: unknown, contentType = 'application/cloudevents+json') {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof event === 'string' ? event : JSON.stringify(event),
  });
  return res.status;
}

async function workspace(status: 'READY' | 'DELETING' | 'SUSPENDED') {
  const ws = await runningWorkspace({ store, driver, fake, projectId });
  await store.mutate(ws.id, () => ({
    mutation: {
      status,
      operation:
        status === 'DELETING'
          ? { name: null, kind: 'delete', started_at: new Date().toISOString() }
          : null,
      agent: { host_key_fingerprint: 'SHA256:x', version: '1', ready_at: new Date().toISOString() },
    },
    value: null,
  }));
  return ws.id;
}

beforeAll(async () => {
  fake = await startComputeFake({ project: projectId });
  process.env.GOOGLE_CLOUD_PROJECT = projectId;
  process.env.HUB_COMPUTE_ENDPOINT = fake.endpoint;
  driver = createGceDriver({ projectId, endpoint: fake.endpoint, authClient: fake.authClient });
  const { FUNCTION_NAME } = await import('../src/index.js');
  const { getTestServer } = await import('@google-cloud/functions-framework/testing');
  server = getTestServer(FUNCTION_NAME);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await fake.close();
  await db.terminate();
});

describe('reconcileFromAuditLog', () => {
  it('marks a workspace SUSPENDED when its VM was stopped outside the hub', async () => {
    const id = await workspace('READY');
    fake.setStatus(id, 'TERMINATED');
    expect(await deliver(auditEvent('v1.compute.instances.stop', id))).toBe(204);
    const ws = await store.get(id);
    expect(ws?.status).toBe('SUSPENDED');
    expect(ws?.status_reason).toBe('reconciled: VM was TERMINATED outside the hub');
    // Recorded as Compute Engine's doing, with the event it reported and the status seen.
    const [latest] = (await store.events!.list(id, { limit: 1, now: new Date() })).events;
    expect(latest).toMatchObject({
      action: 'reconcile',
      outcome: 'succeeded',
      actor: {
        kind: 'compute_engine',
        gce_event: 'v1.compute.instances.stop',
        instance_status: 'TERMINATED',
      },
      status_before: 'READY',
      status_after: 'SUSPENDED',
    });
  });

  it('follows a suspend, a preemption and a host error', async () => {
    for (const method of [
      'beta.compute.instances.suspend',
      'compute.instances.preempted',
      'compute.instances.hostError',
    ]) {
      const id = await workspace('READY');
      fake.setStatus(id, method.endsWith('suspend') ? 'SUSPENDED' : 'TERMINATED');
      expect(await deliver(auditEvent(method, id))).toBe(204);
      expect((await store.get(id))?.status, method).toBe('SUSPENDED');
    }
  });

  it('moves a SUSPENDED workspace whose VM was started elsewhere to RESUMING', async () => {
    const id = await workspace('SUSPENDED');
    expect(await deliver(auditEvent('v1.compute.instances.start', id))).toBe(204);
    expect((await store.get(id))?.status).toBe('RESUMING');
  });

  it('removes the document once the instance is deleted', async () => {
    const id = await workspace('DELETING');
    fake.removeInstance(id);
    expect(await deliver(auditEvent('v1.compute.instances.delete', id))).toBe(204);
    expect(await store.get(id)).toBeNull();
  });

  it('leaves a workspace alone when the event changes nothing (insert, resume of a running VM)', async () => {
    const id = await workspace('READY');
    const before = await store.get(id);
    expect(await deliver(auditEvent('v1.compute.instances.insert', id))).toBe(204);
    expect(await deliver(auditEvent('beta.compute.instances.resume', id))).toBe(204);
    expect((await store.get(id))?.version).toBe(before?.version);
  });

  it('acknowledges unknown instances and malformed events instead of retrying them', async () => {
    expect(await deliver(auditEvent('v1.compute.instances.stop', 'some-other-vm'))).toBe(204);
    expect(await deliver(auditEvent('v1.compute.instances.stop', 'ws-zzzzzzzzzz'))).toBe(204);
    expect(
      await deliver({ ...auditEvent('v1.compute.instances.stop', 'x'), data: { nothing: true } }),
    ).toBe(204);
    expect(await deliver(auditEvent('v1.compute.disks.insert', 'x'))).toBe(204);
  });
});
