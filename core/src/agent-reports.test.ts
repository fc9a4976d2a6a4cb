import type { Workspace } from '@workspace-hub/api';
import { describe, expect, it } from 'vitest';
import { racingStoreOnEmulator } from '../test/racing-store.js';
import { sampleWorkspace } from '../test/sample-workspace.js';
import { at, MIN, NOW } from '../test/times.js';
import { agentMustReportReady, recordAgentActivity, recordAgentReady } from './agent-reports.js';
import { isHubError } from './errors.js';
import { parsePublicKey } from './keys/ssh-public-key.js';

const store = racingStoreOnEmulator();

const HOST_KEY = (() => {
  const type = Buffer.from('ssh-ed25519');
  const len = (n: number) => Buffer.from([0, 0, 0, n]);
  const blob = Buffer.concat([len(type.length), type, len(32), Buffer.alloc(32, 7)]);
  return `ssh-ed25519 ${blob.toString('base64')}`;
})();
const report = {
  agent_version: '1.2.3',
  host_key_fingerprint: parsePublicKey(HOST_KEY).fingerprint,
  port: 2222,
  host_public_key: HOST_KEY,
};

async function stored(over: Partial<Workspace>): Promise<Workspace> {
  return (await store.create(sampleWorkspace(over))).workspace;
}

describe('recordAgentReady', () => {
  it('makes a provisioning workspace READY with the agent, active now, idle deadline from now', async () => {
    const ws = await stored({ status: 'PROVISIONING', status_reason: 'was waiting' });
    const after = await recordAgentReady(store, ws.id, report, { now: NOW });
    expect(after).toMatchObject({
      status: 'READY',
      status_reason: null,
      operation: null,
      error: null,
      last_activity_at: NOW.toISOString(),
      deadline: at(240 * MIN),
      agent: {
        version: '1.2.3',
        host_key_fingerprint: report.host_key_fingerprint,
        port: 2222,
        host_public_key: HOST_KEY,
        ready_at: NOW.toISOString(),
      },
      version: ws.version + 1,
    });
    expect(await store.get(ws.id)).toEqual(after);
  });

  it('leaves a workspace being suspended or deleted in its transition', async () => {
    for (const status of ['SUSPENDING', 'DELETING'] as const) {
      const ws = await stored({ status });
      await recordAgentReady(store, ws.id, report, { now: NOW });
      expect(await store.get(ws.id), status).toEqual(ws);
    }
  });

  it('refuses a host key that is not the fingerprint’s, naming the field, and writes nothing', async () => {
    const ws = await stored({ status: 'RESUMING' });
    const other = { ...report, host_key_fingerprint: `SHA256:${'B'.repeat(43)}` };
    const err = await recordAgentReady(store, ws.id, other, { now: NOW }).catch((e) => e);
    expect(isHubError(err, 'invalid_argument') && err.extra.field).toBe('host_public_key');
    expect(await store.get(ws.id)).toEqual(ws);
  });

  it('decides again when a stop is claimed between its read and its write: the stop stands', async () => {
    const ws = await stored({ status: 'READY', operation: null });
    store.raceNextRead((honest) =>
      honest.updateIfVersion(ws.id, ws.version, { status: 'SUSPENDING' }),
    );
    const after = await recordAgentReady(store, ws.id, report, { now: NOW });
    expect(after.status).toBe('SUSPENDING');
    expect((await store.get(ws.id))!.status).toBe('SUSPENDING');
  });
});

describe('recordAgentActivity', () => {
  it('moves activity and a READY workspace’s deadline forward', async () => {
    const ws = await stored({ status: 'READY', operation: null, last_activity_at: at(-60 * MIN) });
    const r = await recordAgentActivity(
      store,
      ws.id,
      { last_activity_at: at(-5 * MIN) },
      { now: NOW },
    );
    expect(r.workspace).toMatchObject({
      last_activity_at: at(-5 * MIN),
      deadline: at(235 * MIN),
    });
    expect(r.reportReady).toBe(false);
    expect(await store.get(ws.id)).toEqual(r.workspace);
  });

  it('never puts activity in the future, never moves it back', async () => {
    const ws = await stored({ status: 'READY', operation: null, last_activity_at: at(-60 * MIN) });
    const ahead = await recordAgentActivity(
      store,
      ws.id,
      { last_activity_at: at(24 * 60 * MIN) },
      { now: NOW },
    );
    expect(ahead.workspace.last_activity_at).toBe(NOW.toISOString());
    const older = await recordAgentActivity(
      store,
      ws.id,
      { last_activity_at: at(-30 * MIN) },
      { now: NOW },
    );
    expect(older.workspace).toEqual(ahead.workspace);
  });

  it('keeps the deadline of a workspace that is not READY', async () => {
    const ws = await stored({ status: 'SUSPENDED', deadline: at(1000 * MIN), operation: null });
    const r = await recordAgentActivity(store, ws.id, { last_activity_at: at(0) }, { now: NOW });
    expect(r.workspace).toMatchObject({ last_activity_at: at(0), deadline: at(1000 * MIN) });
  });

  it('asks a resumed agent, which has not reported since the resume began, to report ready', async () => {
    const agent = {
      host_key_fingerprint: report.host_key_fingerprint,
      version: '1',
      ready_at: at(-60 * MIN),
      port: 2222,
      host_public_key: null,
    };
    const resuming = await stored({
      status: 'RESUMING',
      agent,
      operation: { name: 'op', kind: 'resume', started_at: at(-MIN) },
    });
    const r = await recordAgentActivity(
      store,
      resuming.id,
      { last_activity_at: at(0) },
      { now: NOW },
    );
    expect(r.reportReady).toBe(true);
    expect(agentMustReportReady({ ...r.workspace, agent: { ...agent, ready_at: at(0) } })).toBe(
      false,
    );
    expect(agentMustReportReady({ ...r.workspace, status: 'READY' })).toBe(false);
  });

  it('is not_found for a workspace that is gone', async () => {
    const err = await recordAgentActivity(
      store,
      sampleWorkspace().id,
      { last_activity_at: at(0) },
      { now: NOW },
    ).catch((e) => e);
    expect(isHubError(err, 'not_found')).toBe(true);
  });
});
