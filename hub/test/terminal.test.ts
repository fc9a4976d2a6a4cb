import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TERMINAL_CLOSE_CODES, type Workspace } from '@workspace-hub/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalTestHub, startLocalTestHub } from './local-workspaces.js';
import { openTerminal, refusal } from './terminal-client.js';

/**
 * The browser terminal end to end: the `ws` client → the hub (local mode, dev identities) →
 * the hub's SSH connection → a real vm-agent process, with a real OpenSSH client on the same
 * sessions.
 */
const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const ADMIN = 'root@example.com';
let t: LocalTestHub;
let a: Workspace;
let keyDir: string;

beforeAll(async () => {
  t = await startLocalTestHub({ HUB_ADMINS: ADMIN });
  a = await t.readyWorkspace(ALICE);
  keyDir = mkdtempSync(join(tmpdir(), 'terminal-ssh-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDir, 'id')]);
  const put = await t.api(ALICE, 'PUT', '/me/keys/laptop', {
    public_key: readFileSync(join(keyDir, 'id.pub'), 'utf8'),
  });
  expect(put.status).toBe(200);
  writeFileSync(
    join(keyDir, 'known_hosts'),
    `[127.0.0.1]:${a.agent!.port} ${a.agent!.host_public_key}\n`,
  );
}, 60_000);
afterAll(async () => {
  await t?.close();
  rmSync(keyDir, { recursive: true, force: true });
});

const terminal = (as = ALICE, id = a.id, opts = {}) => openTerminal(t.hub.url, as, id, opts);

/**
 * OpenSSH's `ssh` with a terminal (-tt), as a user on their laptop runs it; `output` is the
 * last MiB it printed (a flood below prints tens of MB).
 */
function ssh(command: string): { proc: ChildProcessWithoutNullStreams; output: () => string } {
  const proc = spawn('ssh', ['-tt', ...sshArgs(), command]);
  let output = '';
  proc.stdout.on('data', (d: Buffer) => {
    output = (output + d.toString('utf8')).slice(-1024 * 1024);
  });
  return { proc, output: () => output };
}

async function eventually(what: string, check: () => boolean, ms = 10_000) {
  for (let i = 0; i < ms / 25 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check(), what).toBe(true);
}

describe('browser terminal', () => {
  it('attaches to main, runs what is typed, and shares the session with an ssh client both ways', async () => {
    const web = await terminal();
    web.send({ type: 'attach', cols: 100, rows: 30 });
    expect(await web.waitForMessage('attached')).toEqual({ type: 'attached', session: 'main' });
    web.type('echo from-web-$((6*7))\n');
    await web.waitForOutput('from-web-42');

    const laptop = ssh('attach main');
    // The replayed scrollback shows what the browser typed.
    await eventually('ssh sees the browser’s text', () => laptop.output().includes('from-web-42'));
    laptop.proc.stdin.write('echo from-ssh-$((7*6))\n');
    await web.waitForOutput('from-ssh-42');

    // `sessions` shows the browser attached beside the laptop.
    const list = JSON.parse(
      execFileSync('ssh', [...sshArgs(), 'sessions --json'], { encoding: 'utf8' }),
    ) as { sessions: { name: string; clients: { device_id: string }[] }[] };
    const main = list.sessions.find((s) => s.name === 'main')!;
    expect(main.clients.map((c) => c.device_id)).toContain('browser');
    laptop.proc.kill();
    await web.close();
  });

  it('resizes the session’s terminal', async () => {
    const web = await terminal();
    web.send({ type: 'attach', session: 'sized', cols: 80, rows: 24 });
    await web.waitForMessage('attached');
    web.send({ type: 'resize', cols: 123, rows: 45 });
    web.type('stty size\n');
    await web.waitForOutput('45 123');
    await web.close();
  });

  it('replays the scrollback when a page reconnects, and lists and creates sessions', async () => {
    const first = await terminal();
    first.send({ type: 'attach', session: 'replayed' });
    await first.waitForMessage('attached');
    first.type('echo before-the-drop-$((2*21))\n');
    await first.waitForOutput('before-the-drop-42');
    first.ws.terminate(); // the network dropped

    const again = await terminal();
    again.send({ type: 'attach', session: 'replayed', create: false });
    await again.waitForMessage('attached');
    await again.waitForOutput('before-the-drop-42');
    again.send({ type: 'list' });
    const { sessions } = await again.waitForMessage('sessions');
    expect(sessions.map((s) => s.name)).toEqual(expect.arrayContaining(['main', 'replayed']));
    await again.close();
  });

  it('says a session is not found when told not to create it, and reports a session’s exit', async () => {
    const web = await terminal();
    web.send({ type: 'attach', session: 'never-made', create: false });
    expect(await web.waitForMessage('error')).toMatchObject({ code: 'session_not_found' });
    web.send({ type: 'attach', session: 'short' });
    await web.waitForMessage('attached');
    web.type('exit 3\n');
    expect(await web.waitForMessage('exit')).toEqual({
      type: 'exit',
      session: 'short',
      code: 3,
      signal: null,
    });
    await web.close();
  });

  it('answers a bad message with bad_message naming the field, and keeps the socket', async () => {
    const web = await terminal();
    web.send({ type: 'resize', cols: 0, rows: 24 });
    expect(await web.waitForMessage('error')).toMatchObject({ code: 'bad_message', field: 'cols' });
    web.send({ type: 'exec', command: 'id' });
    expect(await web.waitForMessage('error')).toMatchObject({ code: 'bad_message', field: 'type' });
    web.ws.send('not json');
    expect(await web.waitForMessage('error')).toMatchObject({ code: 'bad_message' });
    web.type('typed too early\n');
    expect(await web.waitForMessage('error')).toMatchObject({
      code: 'bad_message',
      field: 'input',
    });
    web.send({ type: 'ping', id: 7 });
    expect(await web.waitForMessage('pong')).toEqual({ type: 'pong', id: 7 });
    await web.close();
  });

  it('stops reading a session while the browser is behind, instead of buffering its output', async () => {
    const web = await terminal();
    web.send({ type: 'attach', session: 'flood' });
    await web.waitForMessage('attached');
    web.ws.pause(); // the browser stops reading
    web.type('yes 0123456789abcdef | head -c 300000000; echo FLO""OD_DONE\n');
    let most = 0;
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 100));
      most = Math.max(most, t.hub.terminals()?.bufferedBytes() ?? 0);
    }
    // The high-water mark (1 MiB) and what was in flight, not the hundreds of MB produced.
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThan(4 * 1024 * 1024);
    web.ws.resume();
    web.type('\x03');
    await web.close();
  });

  it('lets a browser that stopped reading go, saying why, while an ssh client on the same session keeps going', async () => {
    const web = await terminal();
    web.send({ type: 'attach', session: 'stalled-tab' });
    await web.waitForMessage('attached');
    const laptop = ssh('attach stalled-tab');
    web.type('echo both-$((6*7))\n');
    await eventually('ssh attached beside the browser', () => laptop.output().includes('both-42'));

    web.ws.pause(); // the tab's machine went to sleep
    // Tens of MB: more than the hub's high-water mark, both SSH windows and the TCP buffers.
    laptop.proc.stdin.write('yes 0123456789abcdef | head -c 40000000\n');
    laptop.proc.stdin.write('echo typed-after-the-stall-$((6*7))\n');
    // The agent's grace (5 s) and then the flood itself.
    await eventually(
      'the ssh client sees what it typed after the browser stalled',
      () => laptop.output().includes('typed-after-the-stall-42'),
      25_000,
    );

    web.ws.resume(); // the tab wakes up: the output it had, then why it was let go
    expect(await web.closed).toEqual({
      code: TERMINAL_CLOSE_CODES.stalled,
      reason: 'detached: took no output for 5 s while others were attached',
    });
    expect(web.messages.filter((m) => m.type === 'exit' || m.type === 'error')).toEqual([]);
    laptop.proc.kill();
  }, 60_000);

  it('refuses another user’s workspace as not found, and lets an admin attach', async () => {
    const bob = await refusal(terminal(BOB));
    expect(bob).toMatchObject({ status: 404, body: { code: 'not_found' } });
    const nobody = await refusal(terminal(ALICE, 'ws-aaaaaaaaaa'));
    expect(nobody.status).toBe(404);
    const admin = await terminal(ADMIN);
    admin.send({ type: 'attach' });
    await admin.waitForMessage('attached');
    await admin.close();
  });

  it('refuses an upgrade from another origin, without one, or without credentials', async () => {
    const evil = await refusal(terminal(ALICE, a.id, { origin: 'https://evil.example' }));
    expect(evil).toMatchObject({ status: 403, body: { field: 'origin' } });
    const none = await refusal(terminal(ALICE, a.id, { origin: null }));
    expect(none.status).toBe(403);
    const anonymous = await refusal(terminal(ALICE, a.id, { protocols: ['wsh.terminal.v1'] }));
    expect(anonymous.status).toBe(401);
    const plain = await fetch(`${t.hub.url}/workspaces/${a.id}/terminal`, {
      headers: { authorization: `Bearer dev:${ALICE}` },
    });
    expect(plain.status).toBe(400);
  });

  it('says a suspended workspace is not ready, with its status', async () => {
    const b = await t.readyWorkspace(ALICE);
    expect((await t.api(ALICE, 'POST', `/workspaces/${b.id}/stop`)).status).toBe(202);
    const web = await terminal(ALICE, b.id);
    web.send({ type: 'attach' });
    const err = await web.waitForMessage('error');
    expect(err).toMatchObject({ code: 'workspace_not_ready' });
    expect(['SUSPENDING', 'SUSPENDED']).toContain(err.status);
    await web.close();
  });

  it('closes a socket with "reconnect" at HUB_TERMINAL_MAX_SECONDS', async () => {
    const short = await startLocalTestHub({
      GOOGLE_CLOUD_PROJECT: t.config.GOOGLE_CLOUD_PROJECT,
      HUB_TERMINAL_MAX_SECONDS: '1',
    });
    try {
      const web = await openTerminal(short.hub.url, ALICE, a.id);
      expect(await web.closed).toEqual({
        code: TERMINAL_CLOSE_CODES.reconnect,
        reason: 'reconnect',
      });
    } finally {
      await short.close();
    }
  });
});

function sshArgs(): string[] {
  return [
    '-p',
    String(a.agent!.port),
    '-i',
    join(keyDir, 'id'),
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${join(keyDir, 'known_hosts')}`,
    '-o',
    'StrictHostKeyChecking=yes',
    `${ALICE}@127.0.0.1`,
  ];
}
