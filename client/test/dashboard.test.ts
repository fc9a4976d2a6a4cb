import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { startDashboardProxy } from '../src/dashboard-proxy.js';
import { devTokenProvider } from '../src/sdk/auth.js';
import { type LocalHub, startLocalHub, WSH_MAIN } from './local-hub.js';

const EMAIL = 'dash@example.com';
let hub: LocalHub;
let configDir: string;
let wsh: ChildProcess;
let url: string;

beforeAll(async () => {
  hub = await startLocalHub();
  configDir = mkdtempSync(join(tmpdir(), 'wsh-dashboard-'));
  // The real CLI, as a user runs it: `wsh dashboard` prints the URL to open.
  wsh = spawn(process.execPath, [WSH_MAIN, 'dashboard', '--port', '0', '--json'], {
    env: { ...process.env, WSH_CONFIG_DIR: configDir, WSH_HUB: hub.url, WSH_DEV_EMAIL: EMAIL },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    wsh.stdout?.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line).url);
    });
    wsh.once('exit', (code) => reject(new Error(`wsh dashboard exited ${code}: ${out}`)));
  });
});

afterAll(async () => {
  if (wsh && wsh.exitCode === null) {
    const exited = new Promise((r) => wsh.once('exit', r));
    wsh.kill('SIGINT');
    await exited;
  }
  await hub?.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

/** A request with headers a browser (or another site's page) would send. */
function raw(
  path: string,
  opts: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      { method: opts.method ?? 'GET', headers: opts.headers },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('wsh dashboard', () => {
  it('serves the hub through a loopback URL, signed in as the user without any header from the page', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const me = await fetch(new URL('/me', url));
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ email: EMAIL });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('passes the page’s own requests (same origin) on to the hub, as the user', async () => {
    const r = await raw('/workspaces/ws-aaaaaaaaaa/stop', {
      method: 'POST',
      headers: { origin: url.replace(/\/$/, '') },
    });
    // Through to the hub, as the user: no such workspace of theirs.
    expect(r.status).toBe(404);
  });

  it('refuses another site’s requests, which would otherwise carry the user’s credential', async () => {
    const stop = await raw('/workspaces/ws-aaaaaaaaaa/stop', {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
    });
    expect(stop.status).toBe(403);
    expect(stop.body).toContain('Origin https://evil.example');
    const read = await raw('/workspaces', {
      headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
    });
    expect(read.status).toBe(403);
    // A rebound DNS name resolving to 127.0.0.1 is not the proxy's name.
    const rebound = await raw('/me', { headers: { host: `evil.example:${new URL(url).port}` } });
    expect(rebound.status).toBe(403);
  });
});

describe('the dashboard proxy and WebSockets', () => {
  it('opens the hub’s terminal of a workspace through the proxy, with no credential from the page', async () => {
    const origin = url.replace(/\/$/, '');
    const created = await fetch(new URL('/workspaces', url), {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    for (let tries = 0; ; tries++) {
      const r = await fetch(new URL(`/workspaces/${id}/status`, url));
      if (((await r.json()) as { workspace: { status: string } }).workspace.status === 'READY')
        break;
      if (tries > 300) throw new Error('the workspace did not get ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    const socket = new WebSocket(
      `${origin.replace('http', 'ws')}/workspaces/${id}/terminal`,
      ['wsh.terminal.v1'],
      { origin },
    );
    const attached = new Promise<unknown>((resolve, reject) => {
      socket.on('message', (data, binary) => {
        if (!binary) resolve(JSON.parse(String(data)));
      });
      socket.once('error', reject);
    });
    socket.once('open', () => socket.send(JSON.stringify({ type: 'attach', session: 'main' })));
    expect(await attached).toEqual({ type: 'attached', session: 'main' });
    socket.close();
  });

  it('adds the credential to the upgrade, presents the page as the hub’s origin, and relays frames', async () => {
    // A stand-in upstream that records the upgrade it gets and echoes frames.
    const upstream = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => upstream.once('listening', r));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const seen: Record<string, string | undefined>[] = [];
    upstream.on('connection', (socket, req) => {
      seen.push({
        authorization: req.headers.authorization,
        origin: req.headers.origin,
        host: req.headers.host,
      });
      socket.on('message', (data, binary) => socket.send(data, { binary }));
    });
    const proxy = await startDashboardProxy({
      hubUrl: upstreamUrl,
      token: devTokenProvider(EMAIL),
    });
    try {
      const origin = proxy.url.replace(/\/$/, '');
      const socket = new WebSocket(
        `${origin.replace('http', 'ws')}/workspaces/x/terminal`,
        ['wsh.terminal.v1'],
        {
          origin,
        },
      );
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      expect(socket.protocol).toBe('wsh.terminal.v1');
      socket.send(Buffer.from('echo hi\r'));
      const echoed = await new Promise<Buffer>((r) =>
        socket.once('message', (d) => r(d as Buffer)),
      );
      expect(echoed.toString()).toBe('echo hi\r');
      socket.close();
      expect(seen).toEqual([
        {
          authorization: `Bearer dev:${EMAIL}`,
          origin: upstreamUrl,
          host: new URL(upstreamUrl).host,
        },
      ]);

      const foreign = new WebSocket(`${origin.replace('http', 'ws')}/workspaces/x/terminal`, {
        origin: 'https://evil.example',
      });
      const refused = await new Promise<Error>((r) => foreign.once('error', r));
      expect(refused.message).toContain('403');
      expect(seen).toHaveLength(1);
    } finally {
      await proxy.close();
      await new Promise((r) => upstream.close(r));
    }
  });
});
