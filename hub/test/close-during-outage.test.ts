import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubOverOwnFirestore, startHubOverOwnFirestore } from './own-firestore.js';

/**
 * The hub closed (Cloud Run's SIGTERM) during a Firestore outage while a request's Firestore
 * call is being retried inside the client library: here a create whose client went away. The
 * library's next attempt must never meet a terminated client: that attempt fails in a promise
 * nobody handles ("The client has already been terminated"), a crash log in production and a
 * failed run here.
 */
const AUTH = { authorization: 'Bearer dev:olga@example.com', 'content-type': 'application/json' };
/** Cloud Run sends SIGKILL this long after SIGTERM. */
const CLOUD_RUN_SIGTERM_GRACE_MS = 10_000;

const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);
let own: HubOverOwnFirestore;

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  own = await startHubOverOwnFirestore('close-outage');
}, 60_000);

afterAll(async () => {
  await own?.close();
  process.off('unhandledRejection', onRejection);
});

const create = (signal: AbortSignal) =>
  fetch(`${own.hub.url}/workspaces`, { method: 'POST', headers: AUTH, body: '{}', signal });

describe('closing the hub during a Firestore outage', () => {
  it('ends within Cloud Run’s grace and leaves no unhandled rejection behind from a request whose Firestore call is still retrying', async () => {
    expect((await create(AbortSignal.timeout(20_000))).status).toBe(202);
    await own.stopFirestore();
    // The create's transaction now fails its first read and is retried by the library (for
    // minutes: 30 attempts); its client gives up and goes, and nothing waits for the answer.
    const gone = new AbortController();
    const abandoned = create(gone.signal).catch(() => 'aborted');
    await new Promise((resolve) => setTimeout(resolve, 500));
    gone.abort();
    expect(await abandoned).toBe('aborted');

    const closing = Date.now();
    await own.hub.close();
    expect(Date.now() - closing).toBeLessThan(CLOUD_RUN_SIGTERM_GRACE_MS);
    // Past the library's next attempts of the create (each fails within ~8 s here, the next
    // comes at most seconds later): one meeting a client terminated under it has come by now.
    await new Promise((resolve) => setTimeout(resolve, closing + 16_000 - Date.now()));
    expect(rejections.map(String)).toEqual([]);
  }, 90_000);
});
