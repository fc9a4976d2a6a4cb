import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Workspace } from '@workspace-hub/core';
import { startLocalHub } from '@workspace-hub/local';
import { freePort } from '@workspace-hub/testing';
import { inject } from 'vitest';
import { type HubConfig, loadConfig } from '../src/config.js';
import type { HubDeps } from '../src/deps.js';
import type { RunningHub } from '../src/server.js';

/** A hub in local mode (real vm-agent processes) on the test emulator, with dev identities. */
export interface LocalTestHub {
  hub: RunningHub;
  deps: HubDeps;
  config: HubConfig;
  dataDir: string;
  api(
    as: string,
    method: string,
    path: string,
    body?: unknown,
    // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
  ): Promise<{ status: number; body: any }>;
  /** Creates a workspace as `owner` and waits until its agent reported ready. */
  readyWorkspace(owner: string): Promise<Workspace>;
  close(): Promise<void>;
}

export async function startLocalTestHub(env: Record<string, string> = {}): Promise<LocalTestHub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hub-local-'));
  const config = loadConfig({
    HUB_DRIVER: 'local',
    HUB_AUTH: 'dev',
    PORT: String(await freePort()),
    GOOGLE_CLOUD_PROJECT: `local-${Date.now()}-${Math.floor(Math.random() * 1e6)}`,
    FIRESTORE_EMULATOR_HOST: inject('firestoreEmulatorHost'),
    HUB_DATA_DIR: dataDir,
    ...env,
  });
  // Real agents on this machine: the local driver as `npm start` wires it.
  const hub = await startLocalHub(config);
  const deps = await hub.deps;
  const api: LocalTestHub['api'] = async (as, method, path, body) => {
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: { authorization: `Bearer dev:${as}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  };
  return {
    hub,
    deps,
    config,
    dataDir,
    api,
    async readyWorkspace(owner) {
      const created = await api(owner, 'POST', '/workspaces', {});
      if (created.status !== 202) throw new Error(`create: ${JSON.stringify(created.body)}`);
      const id = created.body.id as string;
      for (let i = 0; i < 600; i++) {
        const ws = await deps.store.get(id);
        if (ws?.status === 'READY') return ws;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`workspace ${id} never became READY`);
    },
    async close() {
      await hub.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
