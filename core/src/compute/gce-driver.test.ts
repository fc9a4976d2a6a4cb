import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type ComputeFake, startComputeFake } from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHubError } from '../errors.js';
import { deterministicRequestId } from '../ids.js';
import type { ComputeDriver, InstanceSpec } from './driver.js';
import { COS_IMAGE, createGceDriver } from './gce-driver.js';

const ZONE = 'europe-west1-b';
let fake: ComputeFake;
let driver: ComputeDriver;
let n = 0;

const spec = (over: Partial<InstanceSpec> = {}): InstanceSpec => ({
  name: `ws-t${Date.now().toString(36)}${++n}`,
  zone: ZONE,
  machineType: 'e2-standard-4',
  diskSizeGb: 64,
  userData: '#cloud-config\nruncmd: []\n',
  image: 'europe-docker.pkg.dev/acme-dev-123/ws/workspace:v1',
  labels: { team: 'infra' },
  ...over,
});

async function created(over: Partial<InstanceSpec> = {}) {
  const s = spec(over);
  await driver.create(s, deterministicRequestId(s.name, 'insert'));
  await fake.waitForStatus(s.name, 'RUNNING');
  return s.name;
}

beforeAll(async () => {
  fake = await startComputeFake({ project: 'acme-dev-123' });
  driver = createGceDriver({
    projectId: 'acme-dev-123',
    endpoint: fake.endpoint,
    authClient: fake.authClient,
    serviceAccount: 'workspaces@acme-dev-123.iam.gserviceaccount.com',
  });
});
afterAll(async () => {
  await driver.close?.();
  await fake.close();
});

describe('gce driver through the real Compute client', () => {
  it('creates a Container-Optimized OS VM with a home disk, user-data, labels, tag, Shielded VM and the SA', async () => {
    const name = await created();
    // biome-ignore lint/suspicious/noExplicitAny: the request body is inspected as GCE receives it
    const body = fake.instance(name)!.resource as Record<string, any>;
    expect(body.machineType).toBe(`zones/${ZONE}/machineTypes/e2-standard-4`);
    expect(body.disks[0]).toMatchObject({
      boot: true,
      initializeParams: { sourceImage: COS_IMAGE },
    });
    expect(body.disks[1]).toMatchObject({
      boot: false,
      deviceName: 'home',
      initializeParams: { diskSizeGb: '64' },
    });
    expect(body.metadata.items).toContainEqual({
      key: 'user-data',
      value: '#cloud-config\nruncmd: []\n',
    });
    expect(body.labels).toEqual({ team: 'infra', 'workspace-hub': 'true', 'workspace-id': name });
    expect(body.tags.items).toEqual(['workspace-hub']);
    // Reached through IAP only: no external IP unless asked for.
    expect(body.networkInterfaces[0].accessConfigs).toBeUndefined();
    expect(body.shieldedInstanceConfig).toEqual({
      enableSecureBoot: true,
      enableVtpm: true,
      enableIntegrityMonitoring: true,
    });
    expect(body.serviceAccounts).toEqual([
      {
        email: 'workspaces@acme-dev-123.iam.gserviceaccount.com',
        scopes: ['https://www.googleapis.com/auth/cloud-platform'],
      },
    ]);
    expect(await driver.get(ZONE, name)).toMatchObject({
      status: 'RUNNING',
      labels: { 'workspace-hub': 'true' },
    });
  });

  it('puts workspaces on a configured network and subnetwork, named as instances.insert accepts them', async () => {
    const onHubNet = createGceDriver({
      projectId: 'acme-dev-123',
      endpoint: fake.endpoint,
      authClient: fake.authClient,
      network: 'hub-net',
      subnetwork: 'hub-subnet',
    });
    const viaUrls = createGceDriver({
      projectId: 'acme-dev-123',
      endpoint: fake.endpoint,
      authClient: fake.authClient,
      network: 'projects/host-proj/global/networks/shared',
      subnetwork: 'projects/host-proj/regions/europe-west4/subnetworks/shared-ew4',
    });
    try {
      const here = spec();
      await onHubNet.create(here, deterministicRequestId(here.name, 'insert'));
      const there = spec({ zone: 'europe-west4-a' });
      await onHubNet.create(there, deterministicRequestId(there.name, 'insert'));
      const shared = spec({ zone: 'europe-west4-a' });
      await viaUrls.create(shared, deterministicRequestId(shared.name, 'insert'));
      const nic = (name: string) =>
        (fake.instance(name)!.resource.networkInterfaces as Array<Record<string, unknown>>)[0];
      expect(nic(here.name)).toEqual({
        network: 'global/networks/hub-net',
        subnetwork: 'regions/europe-west1/subnetworks/hub-subnet',
      });
      // The subnetwork's region follows the workspace's zone.
      expect(nic(there.name)).toMatchObject({
        subnetwork: 'regions/europe-west4/subnetworks/hub-subnet',
      });
      expect(nic(shared.name)).toEqual({
        network: 'projects/host-proj/global/networks/shared',
        subnetwork: 'projects/host-proj/regions/europe-west4/subnetworks/shared-ew4',
      });
    } finally {
      await Promise.all([onHubNet.close?.(), viaUrls.close?.()]);
    }
  });

  it('reads the internal IP GCE assigned each VM: where the hub reaches its agent', async () => {
    const [a, b] = [await created(), await created()];
    const [ia, ib] = [await driver.get(ZONE, a), await driver.get(ZONE, b)];
    expect(ia?.internalIp).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(ib?.internalIp).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(ib?.internalIp).not.toBe(ia?.internalIp);
  });

  it('makes one instance for a repeated requestId', async () => {
    const s = spec();
    const id = deterministicRequestId(s.name, 'insert');
    const [a, b] = await Promise.all([driver.create(s, id), driver.create(s, id)]);
    expect(b.name).toBe(a.name);
    expect(fake.calls.filter((c) => c.method === 'insert' && c.instance === s.name)).toHaveLength(
      2,
    );
    expect(
      [...(await driver.list([ZONE], { 'workspace-hub': 'true' }))].filter(
        (i) => i.name === s.name,
      ),
    ).toHaveLength(1);
  });

  it('suspends and resumes, and starts a stopped instance', async () => {
    const name = await created();
    const r = await driver.suspend(ZONE, name, deterministicRequestId(name, 's'));
    expect(r.fallbackReason).toBeNull();
    expect(await driver.waitOperation(r.operation!, 5000)).toEqual({ done: true, error: null });
    expect((await driver.get(ZONE, name))?.status).toBe('SUSPENDED');
    await driver.waitOperation(
      await driver.resume(ZONE, name, deterministicRequestId(name, 'r')),
      5000,
    );
    expect((await driver.get(ZONE, name))?.status).toBe('RUNNING');
    fake.setStatus(name, 'TERMINATED');
    await driver.waitOperation(
      await driver.resume(ZONE, name, deterministicRequestId(name, 'r2')),
      5000,
    );
    expect(fake.calls.filter((c) => c.instance === name).map((c) => c.method)).toContain('start');
    expect((await driver.get(ZONE, name))?.status).toBe('RUNNING');
  });

  it('stops instead when GCE refuses to suspend, and says why', async () => {
    const name = await created();
    fake.refuseSuspend(name, 'Instances with guest accelerators do not support suspend.');
    const r = await driver.suspend(ZONE, name, deterministicRequestId(name, 's'));
    expect(r.fallbackReason).toMatch(/guest accelerators.*stopped instead/);
    await driver.waitOperation(r.operation!, 5000);
    expect((await driver.get(ZONE, name))?.status).toBe('TERMINATED');
  });

  it('never stops an instance that is suspended already: its saved memory is kept', async () => {
    const name = await created();
    await driver.waitOperation(
      (await driver.suspend(ZONE, name, deterministicRequestId(name, 's1'))).operation!,
      5000,
    );
    // A second suspend (a retried sweep, a user's second click): GCE answers
    // UNSUPPORTED_OPERATION "already suspended", which is success, not a reason to stop.
    const again = await driver.suspend(ZONE, name, deterministicRequestId(name, 's2'));
    expect(again).toEqual({ operation: null, fallbackReason: null });
    const [batched] = await driver.suspendMany([
      { zone: ZONE, name, requestId: deterministicRequestId(name, 's3') },
    ]);
    expect(batched).toEqual({ ok: true, value: { operation: null, fallbackReason: null } });
    expect(fake.calls.filter((c) => c.instance === name).map((c) => c.method)).not.toContain(
      'stop',
    );
    expect(fake.instance(name)?.status).toBe('SUSPENDED');
  });

  it('reports a stopped instance as stopped and retries a repairing one later, never stopping either', async () => {
    const [stopped, repairing] = await Promise.all([created(), created()]);
    fake.setStatus(stopped, 'TERMINATED', 'Instance was preempted.');
    fake.setStatus(repairing, 'REPAIRING');
    const r = await driver.suspend(ZONE, stopped, deterministicRequestId(stopped, 's'));
    expect(r.operation).toBeNull();
    expect(r.fallbackReason).toMatch(/already TERMINATED \(Instance was preempted\.\)/);
    const later = await driver
      .suspend(ZONE, repairing, deterministicRequestId(repairing, 's'))
      .catch((e) => e);
    expect(isHubError(later, 'upstream_unavailable')).toBe(true);
    expect(later.message).toMatch(/being repaired/);
    const methods = fake.calls
      .filter((c) => c.instance === stopped || c.instance === repairing)
      .map((c) => c.method);
    expect(methods).not.toContain('stop');
  });

  it('reads the refusal from Compute’s errors[].reason when its message says nothing GCE-specific', async () => {
    const name = await created();
    // No ErrorInfo, a message no pattern knows: only errors[].reason says UNSUPPORTED_OPERATION.
    fake.refuseSuspend(name, 'Suspend is not available for instances with more than 208 GB.');
    const r = await driver.suspend(ZONE, name, deterministicRequestId(name, 's'));
    expect(r.fallbackReason).toMatch(/208 GB.*stopped instead/);
    await fake.waitForStatus(name, 'TERMINATED');
  });

  it('also stops instead when GCE accepts the suspend but fails its operation as unsupported', async () => {
    const name = await created();
    fake.failNextOperation('suspend', {
      code: 'UNSUPPORTED_OPERATION',
      message: 'Instance has been running for more than 60 days and cannot be suspended.',
    });
    const r = await driver.suspend(ZONE, name, deterministicRequestId(name, 's'));
    expect(r.fallbackReason).toMatch(/more than 60 days.*stopped instead/);
    await driver.waitOperation(r.operation!, 5000);
    expect((await driver.get(ZONE, name))?.status).toBe('TERMINATED');
    const mutating = fake.calls.filter((c) => c.instance === name && c.method !== 'get');
    expect(mutating.map((c) => c.method)).toEqual(['insert', 'suspend', 'stop']);
  });

  it('reports an operation’s error and maps request errors to our codes', async () => {
    fake.failNextOperation('insert', { code: 'QUOTA_EXCEEDED', message: "Quota 'CPUS' exceeded" });
    const s = spec();
    const op = await driver.create(s, deterministicRequestId(s.name));
    expect(await driver.waitOperation(op, 5000)).toEqual({
      done: true,
      error: { code: 'QUOTA_EXCEEDED', message: "Quota 'CPUS' exceeded" },
    });
    expect(await driver.get(ZONE, s.name)).toBeNull();
    fake.rejectNext('stop', 403, 'forbidden', "Required 'compute.instances.stop' permission");
    const name = await created();
    fake.refuseSuspend(name, 'does not support suspend');
    const denied = await driver.suspend(ZONE, name, deterministicRequestId(name)).catch((e) => e);
    expect(isHubError(denied, 'permission_denied')).toBe(true);
    expect(denied.message).toContain('compute.instances.stop');
  });

  it('maps quota, conflict and outage answers to our codes with GCE’s message', async () => {
    const name = await created();
    fake.rejectNext('suspend', 403, 'quotaExceeded', "Quota 'SUSPENDED_INSTANCES' exceeded.");
    const quota = await driver
      .suspend(ZONE, name, deterministicRequestId(name, 'q'))
      .catch((e) => e);
    expect(isHubError(quota, 'quota_exceeded')).toBe(true);
    expect(quota.message).toContain("Quota 'SUSPENDED_INSTANCES' exceeded.");
    fake.rejectNext('start', 503, 'backendError', 'Internal error. Please try again.');
    fake.setStatus(name, 'TERMINATED');
    const outage = await driver
      .resume(ZONE, name, deterministicRequestId(name, 'o'))
      .catch((e) => e);
    expect(isHubError(outage, 'upstream_unavailable')).toBe(true);
    const again = spec({ name });
    const conflict = await driver.create(again, deterministicRequestId(name, 'x')).catch((e) => e);
    expect(isHubError(conflict, 'conflict')).toBe(true);
    expect(conflict.message).toContain('already exists');
  });

  it('sends many suspends as one batch request, each answered as its single call would be', async () => {
    const [a, b, refusing] = await Promise.all([created(), created(), created()]);
    fake.refuseSuspend(refusing, 'Instances with guest accelerators do not support suspend.');
    const before = fake.calls.length;
    const calls = [a, 'ws-nothinghere', b, refusing].map((name) => ({
      zone: ZONE,
      name,
      requestId: deterministicRequestId(name, 'many'),
    }));
    const answers = await driver.suspendMany(calls);
    const sent = fake.calls.slice(before);
    expect(sent.filter((c) => c.method === 'batch')).toHaveLength(1);
    expect(
      sent.filter((c) => c.method === 'suspend').map((c) => [c.instance, c.requestId]),
    ).toEqual(calls.map((c) => [c.name, c.requestId]));
    const [okA, missing, okB, stopped] = answers;
    expect(okA).toMatchObject({ ok: true, value: { fallbackReason: null } });
    expect(okB).toMatchObject({ ok: true, value: { fallbackReason: null } });
    expect(missing!.ok).toBe(false);
    expect(isHubError(!missing!.ok && missing!.error, 'not_found')).toBe(true);
    // The refusal is read from its batch part as from a single call: stop instead, and say why.
    expect(stopped).toMatchObject({
      ok: true,
      value: { fallbackReason: expect.stringMatching(/guest accelerators.*stopped instead/) },
    });
    for (const name of [a, b]) await fake.waitForStatus(name, 'SUSPENDED');
    await fake.waitForStatus(refusing, 'TERMINATED');
    // Retried with the same requestIds (a sweep cut short), GCE makes no second operation.
    const again = await driver.suspendMany([calls[0]!]);
    expect(again[0]!.ok && again[0]!.value.operation?.name).toBe(
      okA!.ok && okA!.value.operation?.name,
    );
  });

  it('sends many deletes as one batch; an instance already gone is null, as for one delete', async () => {
    const name = await created();
    const answers = await driver.deleteMany(
      [name, 'ws-nothinghere'].map((n) => ({
        zone: ZONE,
        name: n,
        requestId: deterministicRequestId(n, 'dm'),
      })),
    );
    expect(answers[0]).toMatchObject({ ok: true, value: { zone: ZONE } });
    expect(answers[1]).toEqual({ ok: true, value: null });
    await fake.waitForGone(name);
  });

  it('reports every call of a batch that could not be sent as failed, with the reason', async () => {
    const unreachable = createGceDriver({
      projectId: 'acme-dev-123',
      endpoint: 'http://127.0.0.1:9',
      authClient: fake.authClient,
    });
    const answers = await unreachable.suspendMany(
      ['ws-a', 'ws-b'].map((n) => ({ zone: ZONE, name: n, requestId: deterministicRequestId(n) })),
    );
    expect(answers).toHaveLength(2);
    for (const a of answers) {
      expect(a.ok).toBe(false);
      expect(isHubError(!a.ok && a.error, 'upstream_unavailable')).toBe(true);
    }
    await unreachable.close?.();
  });

  it('lists our instances by label across zones, with what GCE says about their status', async () => {
    const here = await created();
    const there = await created({ zone: 'europe-west4-a' });
    fake.setStatus(there, 'TERMINATED', 'Instance was preempted.');
    const ours = await driver.list([ZONE, 'europe-west4-a'], { 'workspace-hub': 'true' });
    expect(ours.find((i) => i.name === here)).toMatchObject({ zone: ZONE, status: 'RUNNING' });
    expect(ours.find((i) => i.name === there)).toEqual({
      name: there,
      zone: 'europe-west4-a',
      status: 'TERMINATED',
      statusMessage: 'Instance was preempted.',
      labels: { team: 'infra', 'workspace-hub': 'true', 'workspace-id': there },
    });
    const one = await driver.list([ZONE, 'europe-west4-a'], { 'workspace-id': there });
    expect(one.map((i) => i.name)).toEqual([there]);
  });

  it('reads every page of a long list, asking GCE only for the fields it uses', async () => {
    const paged = await startComputeFake({ project: 'acme-dev-123', stepMs: 5, listPageLimit: 2 });
    const pagedDriver = createGceDriver({
      projectId: 'acme-dev-123',
      endpoint: paged.endpoint,
      authClient: paged.authClient,
    });
    try {
      const names = Array.from({ length: 5 }, (_, i) => `ws-page${i}`);
      for (const name of names)
        await pagedDriver.create(spec({ name }), deterministicRequestId(name, 'insert'));
      const ours = await pagedDriver.list([ZONE], { 'workspace-hub': 'true' });
      expect(ours.map((i) => i.name).sort()).toEqual(names);
      expect(ours[0]).toMatchObject({ zone: ZONE, labels: { team: 'infra' } });
      const lists = paged.calls.filter((c) => c.method === 'list');
      expect(lists).toHaveLength(3);
      for (const c of lists)
        expect(c.body).toMatchObject({ fields: expect.stringMatching(/^items\(/) });
    } finally {
      await pagedDriver.close?.();
      await paged.close();
    }
  });

  it('treats a missing instance as null for get and delete, not_found elsewhere', async () => {
    expect(await driver.get(ZONE, 'ws-nothinghere')).toBeNull();
    expect(await driver.delete(ZONE, 'ws-nothinghere', deterministicRequestId('d'))).toBeNull();
    const err = await driver
      .suspend(ZONE, 'ws-nothinghere', deterministicRequestId('s'))
      .catch((e) => e);
    expect(isHubError(err, 'not_found')).toBe(true);
    const name = await created();
    await driver.waitOperation(
      (await driver.delete(ZONE, name, deterministicRequestId(name, 'd')))!,
      5000,
    );
    expect(await driver.get(ZONE, name)).toBeNull();
  });

  it('has the fake refuse what GCE would refuse, so a bad request cannot pass unnoticed', async () => {
    const bad = await driver
      .create(spec({ machineType: 'e2 standard' }), deterministicRequestId('m'))
      .catch((e) => e);
    expect(isHubError(bad, 'invalid_argument')).toBe(true);
    expect(bad.message).toMatch(/machineType/);
    const noCloudConfig = await driver
      .create(spec({ userData: '#!/bin/sh\necho hi' }), deterministicRequestId('u'))
      .catch((e) => e);
    expect(noCloudConfig.message).toMatch(/cloud-config/);
    const badLabel = await driver
      .create(spec({ labels: { Owner: 'Alice' } }), deterministicRequestId('l'))
      .catch((e) => e);
    expect(badLabel.message).toMatch(/label/);
    const badId = await driver.create(spec(), 'not-a-uuid').catch((e) => e);
    expect(badId.message).toMatch(/requestId/);
  });
});

describe('waiting on an operation', () => {
  it('returns not-done at the caller’s deadline when GCE’s own wait would block longer', async () => {
    const slow = await startComputeFake({ project: 'acme-dev-123', stepMs: 60_000 });
    const d = createGceDriver({
      projectId: 'acme-dev-123',
      endpoint: slow.endpoint,
      authClient: slow.authClient,
    });
    try {
      const s = spec();
      const op = await d.create(s, deterministicRequestId(s.name));
      expect(await d.waitOperation(op, 300)).toEqual({ done: false, error: null });
      expect(slow.calls.some((c) => c.method === 'operation.wait')).toBe(true);
    } finally {
      await d.close?.();
      await slow.close();
    }
  });
});

describe('lazy loading', () => {
  it('does not load @google-cloud/compute to import core or to read, only to change an instance', async () => {
    const core = fileURLToPath(new URL('../index.ts', import.meta.url));
    // A child process, so this test's own imports do not count; tsx runs core from source.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module';
         const cache = createRequire(import.meta.url).cache;
         const loaded = () => Object.keys(cache).some((k) => k.includes('@google-cloud/compute'));
         const core = await import(${JSON.stringify(core)});
         const before = loaded();
         const driver = core.createGceDriver({ projectId: 'acme-dev-123', endpoint: ${JSON.stringify(fake.endpoint)} });
         await driver.getOperation({ name: 'operation-1', zone: 'z' }).catch(() => {});
         await driver.get('z', 'ws-nothinghere');
         await driver.list(['z'], { 'workspace-hub': 'true' });
         const afterReads = loaded();
         await driver.delete('z', 'ws-nothinghere', '00000000-0000-4000-8000-000000000000');
         console.log(JSON.stringify({ before, afterReads, after: loaded() }));
         await driver.close();`,
      ],
      {
        timeout: 80_000,
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
      },
    );
    // `after` proves the check can see the library once it is loaded.
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({
      before: false,
      afterReads: false,
      after: true,
    });
  }, 90_000);
});
