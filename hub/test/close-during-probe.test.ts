import { freePort } from '@workspace-hub/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { startServedHub } from './served-hub.js';

/**
 * A hub closed while its Firestore readiness probe is being retried by the client library
 * (Firestore unreachable: here a port nobody listens on). The library's next attempt must not
 * meet a terminated client: that attempt's failure is a promise nobody handles.
 */
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);
process.on('unhandledRejection', onRejection);
afterAll(() => {
  process.off('unhandledRejection', onRejection);
});

describe('closing the hub', () => {
  it('while a readiness probe retries an unreachable Firestore leaves no unhandled rejection behind', async () => {
    const projectId = `close-probe-${Date.now()}`;
    // Nothing listens there; the client library also reads the emulator from the environment.
    const firestore = `127.0.0.1:${await freePort()}`;
    process.env.FIRESTORE_EMULATOR_HOST = firestore;
    const { hub, fake } = await startServedHub(projectId, firestore);
    await hub.ready;
    // /health starts a probe (the hub's start did too); its first attempt fails at once.
    const health = await fetch(`${hub.url}/health`);
    expect(health.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));

    await hub.close();
    await fake.close();
    // The library's next attempt comes at most 1.5 s after the last one failed (2.25 s after
    // the second): without the fix it meets the terminated client by then.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(rejections.map(String)).toEqual([]);
  });
});
