import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectAsGcloud } from './connect-request.js';
import { startComputeStub, startGcloudTunnel } from './gcloud-tunnel.js';
import { startIapRelay } from './relay.js';
import { startEchoTarget } from './tcp-targets.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function echoTarget(): Promise<number> {
  const target = await startEchoTarget();
  cleanups.push(() => target.close());
  return target.port;
}

/**
 * Sends `payload` in 16 KiB pieces, each after the previous one came back.
 * Not all at once: gcloud reads and writes its one TLS socket from two
 * threads without a lock (its own TODO b/276477340), and a bulk transfer both
 * ways at once can wedge gcloud itself (the relay had delivered every byte).
 */
function echoThrough(port: number, payload: Buffer, piece = 16 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let got = 0;
    let sent = 0;
    const sendNext = () => {
      const next = payload.subarray(sent, sent + piece);
      sent += next.length;
      socket.write(next);
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= payload.length) {
        socket.destroy();
        resolve(Buffer.concat(chunks));
      } else if (got === sent) sendNext();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.once('connect', sendNext);
  });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// gcloud is always here where the tests run: the Firestore emulator comes with it.
describe('relay fake against the real gcloud start-iap-tunnel', () => {
  // No drop here: gcloud resumes a dropped socket only when its sender thread hits the broken
  // socket before its receiver thread sees the EOF (otherwise it closes the local connection),
  // so a drop test against gcloud would be a race. Resumption is tested with our own client.
  it('carries 3 MB both ways through gcloud, piece by piece; gcloud never calls the Compute API', async () => {
    const targetPort = await echoTarget();
    const relay = await startIapRelay({ token: 'throwaway-token', tls: true });
    cleanups.push(() => relay.close());
    const compute = await startComputeStub();
    cleanups.push(() => compute.close());
    const gcloud = await startGcloudTunnel({
      relayUrl: relay.url,
      token: 'throwaway-token',
      computeUrl: compute.url,
      instance: 'ws-abcdefghij',
      port: targetPort,
      zone: 'europe-west1-b',
      project: 'p1',
    });
    cleanups.push(() => gcloud.stop());

    const payload = randomBytes(3 * 1024 * 1024);
    const echoed = await echoThrough(gcloud.localPort, payload);
    expect(echoed.length, gcloud.output()).toBe(payload.length);
    expect(sha256(echoed)).toBe(sha256(payload));

    const connects = relay.requests.filter((r) => r.path === '/v4/connect');
    // gcloud opens one session to test the tunnel, then one per local connection.
    expect(connects).toHaveLength(2);
    for (const request of connects) {
      expect(request).toMatchObject(
        connectAsGcloud({
          project: 'p1',
          zone: 'europe-west1-b',
          instance: 'ws-abcdefghij',
          port: targetPort,
        }),
      );
      // Google's own client names itself; ours must too (the fake records it).
      expect(request.userAgent).toMatch(/gcloud/);
    }
    expect(compute.requests).toEqual([]);
  }, 90_000);

  it('is refused by the relay fake with HTTP 401 when its token is wrong', async () => {
    const targetPort = await echoTarget();
    const relay = await startIapRelay({ token: 'the-right-token', tls: true });
    cleanups.push(() => relay.close());
    const compute = await startComputeStub();
    cleanups.push(() => compute.close());
    const started = startGcloudTunnel({
      relayUrl: relay.url,
      token: 'a-wrong-token',
      computeUrl: compute.url,
      instance: 'ws-abcdefghij',
      port: targetPort,
      zone: 'europe-west1-b',
      project: 'p1',
    });
    await expect(started).rejects.toThrow(/401/);
    expect(relay.requests[0]?.outcome).toBe('http 401');
    // Only after a failed connect does gcloud look the instance up, and here that hits the stub.
    expect(compute.requests).toEqual([
      'GET /compute/v1/projects/p1/zones/europe-west1-b/instances/ws-abcdefghij?alt=json',
    ]);
  }, 90_000);
});
