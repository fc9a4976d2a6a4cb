import { once } from 'node:events';
import { connect } from 'node:net';
import { createGceDriver } from '@workspace-hub/core';
import { freePort, startComputeFake } from '@workspace-hub/testing';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { SHUTDOWN_BUDGET_MS, startHub } from '../src/server.js';

/**
 * A hub closed while a request is still under way on one of its connections (here a request
 * whose headers never finish, as a client that stalled mid-request; a download read slowly
 * holds its connection the same way). Cloud Run kills the container 10 s after SIGTERM, so
 * closing must not wait for that request: it is cut within the shutdown budget.
 */
describe('closing the hub', () => {
  it('cuts a request still under way instead of waiting for it past the shutdown budget', async () => {
    const projectId = `close-open-${Date.now()}`;
    const fake = await startComputeFake({ project: projectId });
    const config = loadConfig({
      HUB_DRIVER: 'gce',
      HUB_AUTH: 'dev',
      HUB_URL: 'https://hub.example.test',
      HUB_WORKSPACE_IMAGE: 'europe-docker.pkg.dev/acme-dev-123/workspace-hub/workspace:v1',
      HUB_COMPUTE_ENDPOINT: fake.endpoint,
      PORT: String(await freePort()),
      GOOGLE_CLOUD_PROJECT: projectId,
      FIRESTORE_EMULATOR_HOST: inject('firestoreEmulatorHost'),
    });
    const hub = await startHub(config, '127.0.0.1', {
      driver: () =>
        createGceDriver({ projectId, endpoint: fake.endpoint, authClient: fake.authClient }),
    });
    await hub.ready;
    try {
      const stalled = connect(hub.port, '127.0.0.1');
      await once(stalled, 'connect');
      stalled.on('error', () => {});
      stalled.write('GET /workspaces HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer dev:a@exa');
      const cut = once(stalled, 'close');
      await new Promise((r) => setTimeout(r, 200));

      // Node's own limit for unfinished headers is 60 s: without the cut, close outlives the
      // test's bound and Cloud Run's SIGKILL alike.
      const closed = hub.close().then(() => 'closed');
      const bound = new Promise((r) =>
        setTimeout(() => r('still open'), SHUTDOWN_BUDGET_MS + 2_000),
      );
      expect(await Promise.race([closed, bound])).toBe('closed');
      await cut;
    } finally {
      await hub.close();
      await fake.close();
    }
  }, 30_000);
});
