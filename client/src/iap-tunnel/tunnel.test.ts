import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import {
  connectAsGcloud,
  type IapRelay,
  startEchoTarget,
  startIapRelay,
  startSinkTarget,
  startSourceTarget,
  type TcpTarget,
} from '@workspace-hub/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { IapTunnelError, listenIapTunnel, openIapTunnel, pipeStdio } from './index.js';

const TOKEN = 'test-access-token';
const MB = 1024 * 1024;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function relayTo(...targets: TcpTarget[]): Promise<IapRelay> {
  for (const t of targets) cleanups.push(() => t.close());
  const relay = await startIapRelay({ token: TOKEN });
  cleanups.push(() => relay.close());
  return relay;
}

const tunnelOpts = (relay: IapRelay, port: number, token = TOKEN) => ({
  project: 'p1',
  zone: 'europe-west1-b',
  instance: 'ws-abcdefghij',
  port,
  relayUrl: relay.url,
  getToken: async () => token,
});

const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

/** Reads until `until` bytes arrived (then leaves the stream open) or until it ends. */
function readAll(stream: Readable, until = Number.POSITIVE_INFINITY): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const done = () => {
      stream.off('data', onData);
      stream.pause();
      resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      n += chunk.length;
      if (n >= until) done();
    };
    stream.on('data', onData);
    stream.resume();
    stream.once('end', done);
    stream.once('error', reject);
  });
}

describe('IAP tunnel client against the relay fake', () => {
  it('speaks the connect handshake the relay expects', async () => {
    const echo = await startEchoTarget();
    const relay = await relayTo(echo);
    const tunnel = await openIapTunnel(tunnelOpts(relay, echo.port));
    tunnel.write('ping');
    expect((await readAll(tunnel, 4)).toString()).toBe('ping');
    tunnel.destroy();
    // The very upgrade gcloud sends, and as gcloud does: who is calling, with its version.
    expect(relay.requests[0]).toMatchObject({
      ...connectAsGcloud(tunnelOpts(relay, echo.port)),
      userAgent: expect.stringMatching(/^workspace-hub-wsh\/\d+\.\d+\.\d+ iap-tunnel node\/\d+/),
    });
  });

  it('connects over wss:// to a relay with a self-signed certificate when told to skip verification', async () => {
    const echo = await startEchoTarget();
    cleanups.push(() => echo.close());
    const relay = await startIapRelay({ token: TOKEN, tls: true });
    cleanups.push(() => relay.close());
    await expect(openIapTunnel(tunnelOpts(relay, echo.port))).rejects.toThrow(
      /cannot reach the relay.*self-signed/,
    );
    const tunnel = await openIapTunnel({
      ...tunnelOpts(relay, echo.port),
      insecureSkipVerify: true,
    });
    tunnel.write('over tls');
    expect((await readAll(tunnel, 8)).toString()).toBe('over tls');
    tunnel.destroy();
  });

  it('echoes 20 MB intact in both directions while the WebSocket is dropped three times', async () => {
    const echo = await startEchoTarget();
    const relay = await relayTo(echo);
    const tunnel = await openIapTunnel(tunnelOpts(relay, echo.port));
    const payload = randomBytes(20 * MB);
    relay.dropAfter(3 * MB);
    const received = readAll(tunnel, payload.length);
    let dropsLeft = 2;
    for (let at = 0; at < payload.length; at += 256 * 1024) {
      if (!tunnel.write(payload.subarray(at, at + 256 * 1024))) {
        await new Promise((r) => tunnel.once('drain', r));
      }
      if (dropsLeft > 0 && at >= (dropsLeft === 2 ? 8 : 14) * MB) {
        dropsLeft--;
        relay.dropAll();
      }
    }
    const echoed = await received;
    expect(echoed.length).toBe(payload.length);
    expect(sha256(echoed)).toBe(sha256(payload));
    expect(tunnel.reconnects).toBeGreaterThanOrEqual(3);
    expect(relay.requests.filter((r) => r.path === '/v4/reconnect').length).toBe(tunnel.reconnects);
    tunnel.destroy();
  });

  it('uploads 20 MB to a sink across a drop; the target sees every byte once', async () => {
    const sink = await startSinkTarget();
    const relay = await relayTo(sink);
    // A small window, so most writes wait for the relay's acks (flow control) across the drop.
    const tunnel = await openIapTunnel({
      ...tunnelOpts(relay, sink.port),
      maxUnackedBytes: 64 * 1024,
    });
    const payload = randomBytes(20 * MB);
    relay.dropAfter(7 * MB);
    tunnel.end(payload);
    tunnel.resume();
    await new Promise((r) => tunnel.on('close', r));
    await expect(sink.digests[0]).resolves.toBe(sha256(payload));
    expect(tunnel.reconnects).toBe(1);
  });

  it('downloads 20 MB from a source across a drop, then ends when the target closes', async () => {
    const source = await startSourceTarget(20 * MB);
    const relay = await relayTo(source);
    const tunnel = await openIapTunnel(tunnelOpts(relay, source.port));
    relay.dropAfter(9 * MB);
    const got = await readAll(tunnel);
    expect(got.length).toBe(20 * MB);
    expect(sha256(got)).toBe(source.digest);
    expect(tunnel.reconnects).toBe(1);
  });

  it('stops the relay reading the instance while the local reader does not read, then delivers all', async () => {
    const source = await startSourceTarget(20 * MB);
    cleanups.push(() => source.close());
    const relay = await startIapRelay({ token: TOKEN, windowBytes: 256 * 1024 });
    cleanups.push(() => relay.close());
    const tunnel = await openIapTunnel(tunnelOpts(relay, source.port));
    tunnel.pause();
    // Polls a state, not a time: the relay pauses its backend once 256 KiB are unacknowledged.
    while (!relay.sessionStats()[0]?.backendPaused) await new Promise((r) => setTimeout(r, 20));
    const stats = relay.sessionStats()[0]!;
    expect(stats.toClient).toBeLessThan(4 * MB);
    expect(stats.unconfirmedBytes).toBeLessThanOrEqual(256 * 1024 + 64 * 1024);
    const got = await readAll(tunnel);
    expect(sha256(got)).toBe(source.digest);
  });

  it('re-authenticates with a fresh token when the relay closes with 4004', async () => {
    const echo = await startEchoTarget();
    const relay = await relayTo(echo);
    let token = 'first-token';
    relay.setToken(token);
    const tunnel = await openIapTunnel({
      ...tunnelOpts(relay, echo.port),
      getToken: async () => token,
    });
    tunnel.write('before');
    expect((await readAll(tunnel, 6)).toString()).toBe('before');
    token = 'second-token';
    relay.setToken(token);
    relay.closeAll(4004, 'reauthentication required');
    tunnel.write('after');
    expect((await readAll(tunnel, 5)).toString()).toBe('after');
    expect(tunnel.reconnects).toBe(1);
    tunnel.destroy();
  });

  it('reports a refused token (HTTP 401) as an auth failure without retrying', async () => {
    const echo = await startEchoTarget();
    const relay = await relayTo(echo);
    const err = await openIapTunnel(tunnelOpts(relay, echo.port, 'expired')).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IapTunnelError);
    expect(err).toMatchObject({ code: 401, authFailure: true });
    expect((err as Error).message).toMatch(/refused the access token.*log in again/);
    expect(relay.requests).toHaveLength(1);
  });

  it('gives up on a dropped session when the token is refused at reconnect', async () => {
    const echo = await startEchoTarget();
    const relay = await relayTo(echo);
    const tunnel = await openIapTunnel(tunnelOpts(relay, echo.port));
    const failed = new Promise<Error>((resolve) => tunnel.on('error', resolve));
    relay.refuseAuth(true);
    relay.dropAll();
    const err = await failed;
    expect(err).toMatchObject({ code: 401, authFailure: true });
    expect(relay.requests.filter((r) => r.path === '/v4/reconnect')).toHaveLength(1);
  });

  it('gives up with a clear error when the relay stays unreachable past reconnectTimeoutMs', async () => {
    const echo = await startEchoTarget();
    cleanups.push(() => echo.close());
    const relay = await startIapRelay({ token: TOKEN });
    const tunnel = await openIapTunnel({
      ...tunnelOpts(relay, echo.port),
      reconnectTimeoutMs: 300,
    });
    const failed = new Promise<Error>((resolve) => tunnel.on('error', resolve));
    await relay.close();
    await expect(failed).resolves.toMatchObject({
      message: expect.stringMatching(/could not resume the session: .*cannot reach the relay/),
    });
  });

  it('names missing IAM permission (4033) and an unreachable port (4003)', async () => {
    const echo = await startEchoTarget();
    const relay = await relayTo(echo);
    relay.failConnectsWith(4033, 'not authorized');
    await expect(openIapTunnel(tunnelOpts(relay, echo.port))).rejects.toMatchObject({
      code: 4033,
      authFailure: true,
      message: expect.stringMatching(/roles\/iap\.tunnelResourceAccessor.*4033: not authorized/),
    });
    relay.failConnectsWith(undefined);
    await echo.close();
    await expect(openIapTunnel(tunnelOpts(relay, echo.port))).rejects.toMatchObject({
      code: 4003,
      message: expect.stringMatching(/could not connect to the backend port/),
    });
  });

  it('rejects bad options naming the field', async () => {
    const base = { project: 'p', zone: 'z', instance: 'i', port: 22, getToken: async () => 't' };
    await expect(openIapTunnel({ ...base, port: 70000 })).rejects.toThrow(/"port"/);
    await expect(openIapTunnel({ ...base, zone: '' })).rejects.toThrow(/"zone"/);
    await expect(openIapTunnel({ ...base, relayUrl: 'http://x' })).rejects.toThrow(/"relayUrl"/);
  });

  it('listens locally and opens one tunnel per accepted connection', async () => {
    const echo = await startEchoTarget();
    const relay = await relayTo(echo);
    const listener = await listenIapTunnel({ ...tunnelOpts(relay, echo.port), localPort: 0 });
    cleanups.push(() => listener.close());
    const roundTrip = async (text: string) => {
      const socket = connect(listener.port, '127.0.0.1');
      socket.write(text);
      const got = (await readAll(socket, text.length)).toString();
      socket.destroy();
      return got;
    };
    expect(await Promise.all([roundTrip('one'), roundTrip('two')])).toEqual(['one', 'two']);
    expect(relay.requests.filter((r) => r.path === '/v4/connect')).toHaveLength(2);
  });

  it('pipes stdio for ProxyCommand: returns when stdin ends, or when the remote end closes', async () => {
    const echo = await startEchoTarget();
    const source = await startSourceTarget(100_000);
    const relay = await relayTo(echo, source);
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const piped = pipeStdio(tunnelOpts(relay, echo.port), { stdin, stdout });
    stdin.write('a line for the echo\n');
    expect((await readAll(stdout, 20)).toString()).toBe('a line for the echo\n');
    stdin.end();
    await piped;

    const keptOpen = new PassThrough();
    const downloaded = new PassThrough();
    const download = readAll(downloaded);
    await pipeStdio(tunnelOpts(relay, source.port), { stdin: keptOpen, stdout: downloaded });
    expect(sha256(await download)).toBe(source.digest);
  });
});
