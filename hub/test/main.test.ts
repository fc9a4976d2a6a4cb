import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '@workspace-hub/testing';
import { describe, expect, inject, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, METADATA_SERVER_DETECTION: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => {
    out += b;
  });
  child.stderr.on('data', (b) => {
    err += b;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, out: () => out, err: () => err };
}

describe('node hub/dist/main.js', () => {
  it('refuses to start on bad configuration, naming the variable', async () => {
    const p = run({ PORT: 'http', HUB_IDLE_TIMEOUT_MINUTES: '-5' });
    expect(await p.exited).toBe(2);
    expect(p.err()).toMatch(/PORT:/);
    expect(p.err()).toMatch(/HUB_IDLE_TIMEOUT_MINUTES:/);
    const onCloudRun = run({ HUB_AUTH: 'dev', K_SERVICE: 'hub' });
    expect(await onCloudRun.exited).toBe(2);
    expect(onCloudRun.err()).toMatch(/HUB_AUTH: dev identities are for local mode only/);
  });

  it('leaves the local driver to `npm start`: HUB_DRIVER=local is refused, naming the launcher', async () => {
    const p = run({ HUB_DRIVER: 'local', HUB_AUTH: 'dev' });
    expect(await p.exited).toBe(2);
    expect(p.err()).toMatch(/HUB_DRIVER: local runs through `npm start`.*local\/dist\/main\.js/);
  });

  it('refuses to start for the gce driver without an identity mode, saying why', async () => {
    const p = run({
      HUB_DRIVER: 'gce',
      HUB_URL: 'https://workspace-hub-123.europe-west1.run.app',
      HUB_WORKSPACE_IMAGE: 'europe-docker.pkg.dev/p/r/workspace:v1',
    });
    expect(await p.exited).toBe(2);
    expect(p.err()).toMatch(/HUB_AUTH: is required: cloud-run-iam \(Cloud Run checks run.invoker/);
  });

  it('serves on PORT and shuts down cleanly on SIGTERM', async () => {
    const port = await freePort();
    const p = run({
      PORT: String(port),
      HUB_DRIVER: 'gce',
      HUB_URL: 'https://workspace-hub-123.europe-west1.run.app',
      HUB_WORKSPACE_IMAGE: 'europe-docker.pkg.dev/acme-dev-123/workspace-hub/workspace:v1',
      HUB_AUTH: 'dev',
      GOOGLE_CLOUD_PROJECT: 'test-main',
      FIRESTORE_EMULATOR_HOST: inject('firestoreEmulatorHost'),
    });
    let listed: Response | undefined;
    for (let i = 0; i < 200 && !listed?.ok; i++) {
      await new Promise((r) => setTimeout(r, 50));
      listed = await fetch(`http://127.0.0.1:${port}/workspaces`, {
        headers: { authorization: 'Bearer dev:a@example.com' },
      }).catch(() => undefined);
    }
    expect(listed?.status).toBe(200);
    // Dev identities are anyone's for the asking: the hub answers on 127.0.0.1 and nowhere else
    // (127.0.0.2 reaches a server bound to every interface, not one bound to 127.0.0.1).
    await expect(fetch(`http://127.0.0.2:${port}/health`)).rejects.toThrow();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const lines = p
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.some((l) => l.message === 'SIGTERM: shutting down')).toBe(true);
    expect(lines.find((l) => l.httpRequest)?.severity).toBe('INFO');
  });
});
