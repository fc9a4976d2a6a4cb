import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@workspace-hub/testing';
import { afterAll, expect, inject, it } from 'vitest';

// A user meets the hub's cold start after Cloud Run scaled it to zero. `/health` (the startup
// probe) must not wait for Firestore's and Compute's clients, and the first list must not wait
// for what only other requests need: ssh2 (agent-link's first connection: terminal, files) and
// cloud-init's renderer with yaml (the first create). The client's module log records, in
// order, every module the process resolves or requires.
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const REGISTER = fileURLToPath(
  new URL('../../client/test/module-log/register.mjs', import.meta.url),
);
const CLIENTS = /@google-cloud\/|google-gax|google-auth-library|\/core\/dist\/index\.js/;
const LATER = /\/node_modules\/(ssh2|yaml)\//;

const dir = mkdtempSync(join(tmpdir(), 'hub-imports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('answers /health before loading the Google clients, and the first list without ssh2 or yaml', async () => {
  const log = join(dir, 'modules.log');
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', REGISTER, MAIN], {
    env: {
      PATH: process.env.PATH,
      METADATA_SERVER_DETECTION: 'none',
      MODULE_LOG: log,
      PORT: String(port),
      HUB_DRIVER: 'gce',
      HUB_URL: 'https://workspace-hub-123.europe-west1.run.app',
      HUB_WORKSPACE_IMAGE: 'europe-docker.pkg.dev/acme-dev-123/workspace-hub/workspace:v1',
      HUB_AUTH: 'dev',
      GOOGLE_CLOUD_PROJECT: 'test-cold-start',
      FIRESTORE_EMULATOR_HOST: inject('firestoreEmulatorHost'),
    },
    stdio: 'ignore',
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    let listed: Response | undefined;
    for (let i = 0; i < 400 && !listed?.ok; i++) {
      await new Promise((r) => setTimeout(r, 50));
      listed = await fetch(`http://127.0.0.1:${port}/workspaces`, {
        headers: { authorization: 'Bearer dev:imports@example.com' },
      }).catch(() => undefined);
    }
    expect(listed?.status).toBe(200);
    const loaded = readFileSync(log, 'utf8').trim().split('\n');
    // main.js's static imports are loaded (and evaluated) before its body starts the server,
    // which imports the app (wiring.js) only once it listens.
    const app = loaded.findIndex((l) => l.endsWith('/hub/dist/wiring.js'));
    expect(app).toBeGreaterThan(0);
    expect(loaded.slice(0, app).filter((l) => CLIENTS.test(l) || LATER.test(l))).toEqual([]);
    // The log does see the app's clients once it loads.
    expect(loaded.some((l) => l.includes('/node_modules/@google-cloud/firestore/'))).toBe(true);
    expect(loaded.filter((l) => LATER.test(l))).toEqual([]);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});
