import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { SHUTDOWN_BUDGET_MS } from '../src/server.js';
import { startServedHub } from './served-hub.js';

/**
 * A hub closed while a request is still under way on one of its connections (here a request
 * whose headers never finish, as a client that stalled mid-request; a download read slowly
 * holds its connection the same way). Cloud Run kills the container 10 s after SIGTERM, so
 * closing must not wait for that request: it is cut within the shutdown budget.
 */
describe('closing the hub', () => {
  it('cuts a request still under way instead of waiting for it past the shutdown budget', async () => {
    const projectId = `close-open-${Date.now()}`;
    const { hub, fake } = await startServedHub(projectId, inject('firestoreEmulatorHost'));
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
