import type { Workspace } from '@workspace-hub/api';
import { describe, expect, it } from 'vitest';
import { racingStoreOnEmulator } from '../test/racing-store.js';
import { OWNER, sampleWorkspace } from '../test/sample-workspace.js';
import { NOW } from '../test/times.js';
import { recordConnection } from './connect.js';
import { isHubError } from './errors.js';

const store = racingStoreOnEmulator();

const stored = async (over: Partial<Workspace>) =>
  (await store.create(sampleWorkspace(over))).workspace;

describe('recordConnection', () => {
  it('records the device and counts as activity: a READY workspace’s deadline moves out', async () => {
    const ws = await stored({ status: 'READY', operation: null, deadline: NOW.toISOString() });
    const after = await recordConnection(store, ws.id, 'laptop', { now: NOW, actor: OWNER });
    expect(after).toMatchObject({
      last_connected_at: NOW.toISOString(),
      last_activity_at: NOW.toISOString(),
      last_device_id: 'laptop',
      deadline: new Date(NOW.getTime() + 240 * 60_000).toISOString(),
      version: ws.version + 1,
    });
    expect(await store.get(ws.id)).toEqual(after);
  });

  it('gives a workspace that is not READY no idle deadline', async () => {
    const ws = await stored({ status: 'SUSPENDED', operation: null, deadline: null });
    const after = await recordConnection(store, ws.id, 'desktop', { now: NOW, actor: OWNER });
    expect(after).toMatchObject({ last_device_id: 'desktop', deadline: null, status: 'SUSPENDED' });
  });

  it('is not_found for a workspace that is gone', async () => {
    const err = await recordConnection(store, sampleWorkspace().id, 'laptop', {
      now: NOW,
      actor: OWNER,
    }).catch((e) => e);
    expect(isHubError(err, 'not_found')).toBe(true);
  });
});
