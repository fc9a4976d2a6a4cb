import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Workspace } from '@workspace-hub/core';
import { generateEd25519Key } from '@workspace-hub/ssh-keys';
import { freePort, startFirestoreEmulator } from '@workspace-hub/testing';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The hub as `npm start` runs it (its own process, local driver, dev identities) with one READY workspace. */
export interface BenchHub {
  url: string;
  email: string;
  workspace: Workspace;
  /** A device key registered for `email`, for the direct SSH path to the same agent. */
  deviceKey: string;
  hubPid: number;
  stop(): Promise<void>;
}

export async function startBenchHub(email: string): Promise<BenchHub> {
  const emulator = await startFirestoreEmulator();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-web-terminal-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // `npm start`'s launcher (local driver, dev identities) on the emulator started here.
  const hub: ChildProcess = spawn(process.execPath, ['local/dist/main.js'], {
    cwd: ROOT,
    env: {
      ...process.env,
      HUB_URL: url,
      PORT: String(port),
      GOOGLE_CLOUD_PROJECT: 'bench-web-terminal',
      FIRESTORE_EMULATOR_HOST: emulator.host,
      HUB_DATA_DIR: dataDir,
      // Hundreds of sessions: each runs the light /bin/sh, not bash.
      SHELL: '/bin/sh',
    },
    stdio: 'ignore',
  });
  const stop = async () => {
    if (hub.exitCode === null) {
      const exited = new Promise((r) => hub.once('exit', r));
      hub.kill('SIGTERM');
      await exited;
    }
    await emulator.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer dev:${email}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    for (let i = 0; ; i++) {
      if (
        await fetch(`${url}/health`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i > 300) throw new Error('the hub did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const key = generateEd25519Key();
    await call('PUT', '/me/keys/bench', { public_key: key.publicKey });
    const created = await call('POST', '/workspaces', {});
    let workspace: Workspace | null = null;
    for (let i = 0; i < 600 && !workspace; i++) {
      const got = await call('GET', `/workspaces/${created.body.id}`);
      if (got.body.status === 'READY') workspace = got.body as unknown as Workspace;
      else await new Promise((r) => setTimeout(r, 100));
    }
    if (!workspace) throw new Error('the workspace never became READY');
    return { url, email, workspace, deviceKey: key.privateKey, hubPid: hub.pid!, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
