import { describe, expect, it } from 'vitest';
import { racingStoreOnEmulator } from '../test/racing-store.js';
import { OWNER, sampleWorkspace } from '../test/sample-workspace.js';
import { at, MIN, NOW } from '../test/times.js';
import { isHubError } from './errors.js';
import { extendDeadline } from './extend.js';

const store = racingStoreOnEmulator();

const opts = { now: NOW, maxMinutes: 480, actor: OWNER };
const ready = async (deadline: string | null) =>
  (await store.create(sampleWorkspace({ status: 'READY', operation: null, deadline }))).workspace;

async function refusal(p: Promise<unknown>) {
  const err = await p.catch((e) => e);
  if (!isHubError(err)) throw new Error(`not refused: ${JSON.stringify(err)}`);
  return { code: err.code, ...err.extra };
}

describe('extendDeadline', () => {
  it('pushes the deadline out from itself when it is ahead, from now when it has passed', async () => {
    const ahead = await ready(at(60 * MIN));
    expect((await extendDeadline(store, ahead.id, 30, opts)).deadline).toBe(at(90 * MIN));
    const passed = await ready(at(-60 * MIN));
    expect((await extendDeadline(store, passed.id, 30, opts)).deadline).toBe(at(30 * MIN));
    expect((await store.get(passed.id))!.deadline).toBe(at(30 * MIN));
  });

  it('never moves the deadline further than the maximum past now', async () => {
    const ws = await ready(at(400 * MIN));
    expect((await extendDeadline(store, ws.id, 300, opts)).deadline).toBe(at(480 * MIN));
  });

  it('refuses a workspace that is not READY with its status, and writes nothing', async () => {
    const ws = (
      await store.create(sampleWorkspace({ status: 'SUSPENDED', operation: null, deadline: null }))
    ).workspace;
    expect(await refusal(extendDeadline(store, ws.id, 30, opts))).toEqual({
      code: 'conflict',
      current_status: 'SUSPENDED',
    });
    expect(await store.get(ws.id)).toEqual(ws);
  });

  it('decides again when a stop is claimed between its read and its write: refused', async () => {
    const ws = await ready(at(60 * MIN));
    store.raceNextRead((honest) =>
      honest.updateIfVersion(ws.id, ws.version, { status: 'SUSPENDING', deadline: null }),
    );
    expect(await refusal(extendDeadline(store, ws.id, 30, opts))).toMatchObject({
      code: 'conflict',
      current_status: 'SUSPENDING',
    });
    expect((await store.get(ws.id))!.deadline).toBeNull();
  });
});
