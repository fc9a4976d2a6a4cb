import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubOverOwnFirestore, startHubOverOwnFirestore } from './own-firestore.js';

/**
 * Firestore going away and coming back, for real: a Firestore emulator of this
 * test's own is killed under a running hub, then started again on its port.
 */
const AUTH = { authorization: 'Bearer dev:olga@example.com', 'content-type': 'application/json' };
/** Far under the client library's minute of retries; what "within a few seconds" must beat. */
const ANSWER_BOUND_MS = 15_000;

let own: HubOverOwnFirestore;

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${own.hub.url}${path}`, {
    method,
    headers: AUTH,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(ANSWER_BOUND_MS),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    retryAfter: res.headers.get('retry-after'),
    body: text ? JSON.parse(text) : null,
  };
}

beforeAll(async () => {
  own = await startHubOverOwnFirestore('hub-outage');
}, 60_000);

afterAll(() => own?.close());

describe('a Firestore outage', () => {
  it('is answered with 503 and Retry-After within seconds, shown by /ready and /health, and ends by itself', async () => {
    expect((await call('GET', '/workspaces')).status).toBe(200);
    expect((await call('GET', '/ready')).status).toBe(200);
    expect((await call('GET', '/health')).body).toMatchObject({ ok: true, firestore: 'ok' });

    await own.stopFirestore();

    for (const [method, path, body] of [
      ['GET', '/workspaces'],
      ['POST', '/workspaces', {}],
      ['GET', '/me/keys'],
    ] as const) {
      const r = await call(method, path, body);
      expect(r.status, `${method} ${path}`).toBe(503);
      expect(r.type).toBe('application/problem+json');
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
      expect(r.body).toMatchObject({ status: 503, code: 'upstream_unavailable' });
      expect(r.body.detail).toMatch(/Firestore/);
    }
    const ready = await call('GET', '/ready');
    expect(ready.status).toBe(503);
    expect(ready.type).toBe('application/problem+json');
    // Liveness stays 200: Cloud Run must not restart a hub over an outage.
    const health = await call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true, firestore: 'unavailable' });

    await own.startFirestoreAgain();
    // No restart of the hub: requests succeed again once Firestore answers.
    const until = Date.now() + 90_000;
    let r = await call('GET', '/workspaces');
    while (r.status !== 200 && Date.now() < until) {
      expect(r.status).toBe(503);
      await new Promise((res) => setTimeout(res, 1_000));
      r = await call('GET', '/workspaces');
    }
    expect(r.status).toBe(200);
    expect((await call('POST', '/workspaces', {})).status).toBe(202);
    expect((await call('GET', '/ready')).status).toBe(200);
    expect((await call('GET', '/health')).body.firestore).toBe('ok');
  }, 180_000);
});
