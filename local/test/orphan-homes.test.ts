import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFirestore, WorkspaceStore } from '@workspace-hub/core';
import { type HubConfig, loadConfig, type RunningHub } from '@workspace-hub/hub';
import { freePort } from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startLocalHub } from '../src/hub.js';

/**
 * Local mode over a data dir holding homes no workspace accounts for: a
 * folder without its instance record (left by an older hub, or damaged) and
 * the folder of a workspace whose document is gone (the emulator's data lost).
 * Admins see both through the hub; nothing is deleted.
 */
const ADMIN = 'root@example.com';
const USER = 'dana@example.com';
let hub: RunningHub;
let dataDir: string;
let config: HubConfig;

async function api(as: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: { authorization: `Bearer dev:${as}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'local-orphans-'));
  const stray = join(dataDir, 'workspaces', 'ws-leftover1', 'home');
  mkdirSync(stray, { recursive: true });
  writeFileSync(join(stray, 'thesis.tex'), 'chapter one');
  config = loadConfig({
    HUB_DRIVER: 'local',
    HUB_AUTH: 'dev',
    HUB_ADMINS: ADMIN,
    PORT: String(await freePort()),
    GOOGLE_CLOUD_PROJECT: `orphans-${Date.now()}`,
    FIRESTORE_EMULATOR_HOST: inject('firestoreEmulatorHost'),
    HUB_DATA_DIR: dataDir,
  });
  hub = await startLocalHub(config);
  await hub.ready;
});
afterAll(async () => {
  await hub?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('homes no workspace accounts for', () => {
  it('are listed to admins (404 to anyone else), through /cleanup too, and never deleted', async () => {
    expect((await api(USER, 'GET', '/admin/orphans')).status).toBe(404);
    const first = await api(ADMIN, 'GET', '/admin/orphans');
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      instances: [],
      homes: [{ name: 'ws-leftover1', path: join(dataDir, 'workspaces', 'ws-leftover1') }],
    });

    // A workspace whose document goes (as when the emulator's data is lost): its folder stays.
    const id = (await api(USER, 'POST', '/workspaces', {})).body.id as string;
    for (let i = 0; i < 200; i++) {
      if ((await api(USER, 'GET', `/workspaces/${id}/status`)).body.workspace?.status === 'READY')
        break;
      await new Promise((r) => setTimeout(r, 50));
    }
    writeFileSync(join(dataDir, 'workspaces', id, 'home', 'notes.txt'), 'keep me');
    await createFirestore(config.GOOGLE_CLOUD_PROJECT, config.FIRESTORE_EMULATOR_HOST)
      .collection('workspaces')
      .doc(id)
      .delete();
    expect(
      await new WorkspaceStore(
        createFirestore(config.GOOGLE_CLOUD_PROJECT, config.FIRESTORE_EMULATOR_HOST),
      ).get(id),
    ).toBeNull();

    const second = await api(ADMIN, 'GET', '/admin/orphans');
    expect(second.body.instances).toEqual([
      { zone: config.HUB_ZONE, name: id, first_seen: null, quarantined: false },
    ]);
    expect(second.body.homes.map((h: { name: string }) => h.name)).toEqual(['ws-leftover1']);

    // The sweep reports it and records when it first saw it; it deletes nothing.
    const sweep = await api(ADMIN, 'POST', '/cleanup');
    expect(sweep.status).toBe(200);
    expect(sweep.body.orphans).toEqual([
      expect.objectContaining({ zone: config.HUB_ZONE, name: id, quarantined: false }),
    ]);
    const third = await api(ADMIN, 'GET', '/admin/orphans');
    expect(third.body.instances[0].first_seen).toEqual(sweep.body.orphans[0].first_seen);

    expect(
      readFileSync(join(dataDir, 'workspaces', 'ws-leftover1', 'home', 'thesis.tex'), 'utf8'),
    ).toBe('chapter one');
    expect(readFileSync(join(dataDir, 'workspaces', id, 'home', 'notes.txt'), 'utf8')).toBe(
      'keep me',
    );
    expect(existsSync(join(dataDir, 'workspaces', id, 'instance.json'))).toBe(true);
  });
});
