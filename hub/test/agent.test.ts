import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentHeaders,
  HUB_URL,
  manualClock,
  startTestHub,
  type TestHub,
  WORKSPACE_SA,
} from './harness.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const ADMIN = 'root@example.com';
const ED25519 = (n: number) => {
  const type = Buffer.from('ssh-ed25519');
  const blob = Buffer.concat([
    Buffer.from([0, 0, 0, type.length]),
    type,
    Buffer.from([0, 0, 0, 32]),
    Buffer.alloc(32, n),
  ]);
  return `ssh-ed25519 ${blob.toString('base64')}`;
};

let hub: TestHub;
const clock = manualClock();
let wsA: string;
let wsB: string;

async function workspaceFor(email: string) {
  const id = (await hub.call('POST', '/workspaces', { as: email })).body.id as string;
  await hub.fake.waitForStatus(id, 'RUNNING');
  return id;
}

/** A callback as the vm-agent makes it (the token for Cloud Run's check and for the hub). */
const agentCall = (id: string, token: string, method: string, path: string, body?: unknown) =>
  hub.call(method, path, { headers: { ...agentHeaders(token), 'x-workspace-id': id }, body });

// As the module deploys the hub: behind Cloud Run's invoker check, users and VMs invokers.
beforeAll(async () => {
  hub = await startTestHub(
    { HUB_AUTH: 'cloud-run-iam', HUB_ADMINS: ADMIN },
    {
      now: clock.now,
      behindCloudRun: { invokers: ['domain:example.com', `serviceAccount:${WORKSPACE_SA}`] },
    },
  );
  wsA = await workspaceFor(ALICE);
  wsB = await workspaceFor(BOB);
});
afterAll(() => hub.close());

describe('agent callbacks', () => {
  it('marks the workspace READY with the agent’s host key and version', async () => {
    const r = await hub.agentReady(wsA);
    expect(r.status).toBe(200);
    const ws = (await hub.call('GET', `/workspaces/${wsA}`, { as: ALICE })).body;
    expect(ws.status).toBe('READY');
    expect(ws.agent).toMatchObject({ version: '0.1.0', port: 2222 });
  });

  it('refuses a token for workspace A acting on workspace B', async () => {
    const a = (await hub.deps.store.get(wsA))!;
    const token = hub.identityToken(a);
    const body = {
      workspace_id: wsB,
      agent_version: 'x',
      host_key_fingerprint: `SHA256:${'B'.repeat(43)}`,
      port: 1,
    };
    const r = await agentCall(wsB, token, 'POST', '/agent/ready', body);
    expect(r.status).toBe(403);
    const keys = await agentCall(wsB, token, 'GET', '/agent/authorized-keys');
    expect(keys.status).toBe(403);
    // and B's document is untouched
    expect((await hub.deps.store.get(wsB))!.agent).toBeNull();
  });

  it('refuses identity tokens naming another instance, audience or signer', async () => {
    const b = (await hub.deps.store.get(wsB))!;
    for (const [what, token, status] of [
      ['other instance', hub.identityToken({ ...b, instance_name: 'ws-zzzzzzzzzz' }), 403],
      ['other zone', hub.identityToken({ ...b, zone: 'us-east1-b' }), 403],
      ['other project', hub.identityToken({ ...b, project_id: 'elsewhere' }), 403],
      ['other audience', hub.identityToken(b, 'https://not-the-hub.example'), 401],
      ['forged signature', `${hub.identityToken(b).slice(0, -10)}AAAAAAAAAA`, 401],
      ['no JWT (local token on a GCE hub)', 'opaque-token', 401],
    ] as const) {
      const r = await agentCall(wsB, token, 'GET', '/agent/authorized-keys');
      expect(r.status, what).toBe(status);
    }
    const ok = await agentCall(wsB, hub.identityToken(b), 'GET', '/agent/authorized-keys');
    expect(ok.status).toBe(200);
  });

  it('verifies the token itself, not only Cloud Run: a forged copy in Authorization is refused', async () => {
    const b = (await hub.deps.store.get(wsB))!;
    const valid = hub.identityToken(b);
    const r = await hub.call('GET', '/agent/authorized-keys', {
      headers: {
        'x-serverless-authorization': `Bearer ${valid}`,
        authorization: `Bearer ${valid.slice(0, -10)}AAAAAAAAAA`,
        'x-workspace-id': wsB,
      },
    });
    expect(hub.door?.exchanges.at(-1)).toMatchObject({
      principal: `serviceAccount:${WORKSPACE_SA}`,
    });
    expect(r.status).toBe(401);
  });

  it('tells an agent that sends its token in Authorization only why Cloud Run’s copy will not do', async () => {
    const b = (await hub.deps.store.get(wsB))!;
    const r = await hub.call('GET', '/agent/authorized-keys', {
      headers: { authorization: `Bearer ${hub.identityToken(b)}`, 'x-workspace-id': wsB },
    });
    expect(r.status).toBe(401);
    expect(r.body.detail).toMatch(/X-Serverless-Authorization/);
  });

  it('bumps activity and the deadline on heartbeats, never into the future', async () => {
    const a = (await hub.deps.store.get(wsA))!;
    const token = hub.identityToken(a);
    clock.advance(30 * 60_000);
    const at = hub.deps.now();
    const r = await agentCall(wsA, token, 'POST', '/agent/heartbeat', {
      workspace_id: wsA,
      last_activity_at: at.toISOString(),
      sessions: 1,
      attached_devices: ['laptop'],
    });
    expect(r.body).toEqual({ ok: true, report_ready: false });
    const after = (await hub.deps.store.get(wsA))!;
    expect(after.last_activity_at).toBe(at.toISOString());
    expect(Date.parse(after.deadline!)).toBe(at.getTime() + 240 * 60_000);

    await agentCall(wsA, token, 'POST', '/agent/heartbeat', {
      workspace_id: wsA,
      last_activity_at: new Date(at.getTime() + 86_400_000).toISOString(),
      sessions: 1,
    });
    expect(Date.parse((await hub.deps.store.get(wsA))!.last_activity_at)).toBeLessThanOrEqual(
      hub.deps.now().getTime(),
    );
  });

  it('asks a resumed agent to report ready again', async () => {
    await hub.call('POST', `/workspaces/${wsA}/stop`, { as: ALICE });
    await hub.fake.waitForStatus(wsA, 'SUSPENDED');
    await hub.call('GET', `/workspaces/${wsA}/status`, { as: ALICE });
    clock.advance(1000);
    expect((await hub.call('POST', `/workspaces/${wsA}/start`, { as: ALICE })).body.status).toBe(
      'RESUMING',
    );
    const a = (await hub.deps.store.get(wsA))!;
    const hb = await agentCall(wsA, hub.identityToken(a), 'POST', '/agent/heartbeat', {
      workspace_id: wsA,
      last_activity_at: hub.deps.now().toISOString(),
      sessions: 1,
    });
    expect(hb.body.report_ready).toBe(true);
  });

  it('serves the owner’s and the admins’ keys, never another user’s', async () => {
    expect(
      (
        await hub.call('PUT', '/me/keys/laptop', {
          as: BOB,
          body: { public_key: `${ED25519(1)} bob@laptop` },
        })
      ).status,
    ).toBe(200);
    await hub.call('PUT', '/me/keys/phone', { as: BOB, body: { public_key: ED25519(2) } });
    await hub.call('PUT', '/me/keys/desk', { as: ALICE, body: { public_key: ED25519(3) } });
    await hub.call('PUT', '/me/keys/ops', { as: ADMIN, body: { public_key: ED25519(4) } });
    const b = (await hub.deps.store.get(wsB))!;
    const r = await agentCall(wsB, hub.identityToken(b), 'GET', '/agent/authorized-keys');
    expect(r.status).toBe(200);
    const names = r.body.keys
      .map((k: { name: string; owner: string }) => `${k.owner}/${k.name}`)
      .sort();
    expect(names).toEqual([`${BOB}/laptop`, `${BOB}/phone`, `${ADMIN}/ops`].sort());
  });

  it('accepts the per-workspace token only in local mode', async () => {
    const local = await startTestHub({ HUB_DRIVER: 'local', HUB_URL }, {});
    try {
      const id = (await local.call('POST', '/workspaces', { as: ALICE })).body.id;
      const token = await local.deps.agentTokens.issue(id);
      const ready = (tok: string, wid: string) =>
        local.call('POST', '/agent/ready', {
          headers: { authorization: `Bearer ${tok}`, 'x-workspace-id': wid },
          body: {
            workspace_id: wid,
            agent_version: '1',
            host_key_fingerprint: `SHA256:${'C'.repeat(43)}`,
            port: 4000,
          },
        });
      expect((await ready('wrong-token', id)).status).toBe(403);
      const other = (await local.call('POST', '/workspaces', { as: ALICE })).body.id;
      expect((await ready(token, other)).status).toBe(403);
      expect((await ready(token, id)).status).toBe(200);
      expect((await local.deps.store.get(id))!.status).toBe('READY');
    } finally {
      await local.close();
    }
  });
});
