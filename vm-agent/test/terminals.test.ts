import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectSsh2,
  type KeyPair,
  makeKey,
  Screen,
  ssh,
  sshArgs,
  startTestAgent,
  type TestAgent,
} from './helpers.js';

let agent: TestAgent;
let laptop: KeyPair;
let phone: KeyPair;
const clients: ssh2.Client[] = [];

beforeAll(async () => {
  const keysDir = (await import('./helpers.js')).tempDir('vm-agent-keys-');
  laptop = await makeKey(keysDir, 'laptop');
  phone = await makeKey(keysDir, 'phone');
  const authorized = join(keysDir, 'authorized_keys');
  writeFileSync(authorized, `${laptop.publicKey}\n${phone.publicKey}\n`);
  agent = await startTestAgent({ AGENT_AUTHORIZED_KEYS_FILE: authorized });
});

afterAll(async () => {
  for (const c of clients) c.end();
  await agent?.close();
});

async function ssh2Client(key: KeyPair): Promise<ssh2.Client> {
  const c = await connectSsh2(agent, key);
  clients.push(c);
  return c;
}

function openShell(
  client: ssh2.Client,
  command: string | null,
  size = { rows: 24, cols: 80 },
  env: Record<string, string> = {},
): Promise<ssh2.ClientChannel> {
  return new Promise((resolve, reject) => {
    const pty = { term: 'xterm-256color', ...size };
    const cb = (err: Error | undefined, stream: ssh2.ClientChannel) =>
      err ? reject(err) : resolve(stream);
    if (command === null) client.shell(pty, { env }, cb);
    else client.exec(command, { pty, env }, cb);
  });
}

function exitOf(stream: ssh2.ClientChannel): Promise<number | string> {
  return new Promise((resolve) =>
    stream.on('exit', (code: number | null, signal?: string) => resolve(code ?? signal ?? 'none')),
  );
}

describe('persistent terminals', () => {
  it('replays what a disconnected OpenSSH client saw to another device re-attaching with ssh2', async () => {
    const first = spawn('ssh', [...sshArgs(agent, laptop, ['-tt']), 'dev@127.0.0.1'], {
      stdio: 'pipe',
    });
    const firstScreen = new Screen(first.stdout);
    first.stdin.write('echo typed-on-$((6*7))-laptop\n');
    await firstScreen.waitFor('typed-on-42-laptop');
    first.kill('SIGTERM');
    await new Promise((r) => first.on('close', r));

    const listed = await ssh(agent, phone, ['sessions', '--json']);
    const main = JSON.parse(listed.stdout).sessions.find(
      (s: { name: string }) => s.name === 'main',
    );
    expect(main.clients).toEqual([]);

    const again = await openShell(await ssh2Client(phone), null);
    const screen = new Screen(again);
    await screen.waitFor('typed-on-42-laptop');
    again.write('echo still-$((1+1))-here\n');
    await screen.waitFor('still-2-here');
    again.close();
  });

  it('shows the same output to two attached clients and lists both devices', async () => {
    const a = await openShell(
      await ssh2Client(laptop),
      'attach pair',
      { rows: 24, cols: 80 },
      { WSH_DEVICE_ID: 'dev-a' },
    );
    const b = spawn('ssh', [...sshArgs(agent, phone, ['-tt']), 'dev@127.0.0.1', 'attach', 'pair'], {
      stdio: 'pipe',
    });
    const screenA = new Screen(a);
    const screenB = new Screen(b.stdout);
    b.stdin.write('echo from-b-$((2*21))\n');
    await screenA.waitFor('from-b-42');
    await screenB.waitFor('from-b-42');

    const listed = await ssh(agent, laptop, ['sessions', '--json']);
    const pair = JSON.parse(listed.stdout).sessions.find(
      (s: { name: string }) => s.name === 'pair',
    );
    expect(pair.clients.map((c: { device_id: string }) => c.device_id).sort()).toEqual([
      'dev-a',
      'phone',
    ]);
    const table = await ssh(agent, laptop, ['sessions']);
    expect(table.stdout).toMatch(/^pair\s+\d+\s+.*dev-a/m);
    b.kill('SIGTERM');
    a.close();
  });

  it('gives the pty the size of the most recent attach or resize', async () => {
    const a = await openShell(await ssh2Client(laptop), 'attach sized', { rows: 30, cols: 100 });
    const screen = new Screen(a);
    a.write('stty size\n');
    await screen.waitFor('30 100');
    a.setWindow(40, 120, 0, 0);
    a.write('stty size\n');
    await screen.waitFor('40 120');
    const b = await openShell(await ssh2Client(phone), 'attach sized', { rows: 50, cols: 132 });
    const screenB = new Screen(b);
    b.write('stty size\n');
    await screenB.waitFor('50 132');
    a.close();
    b.close();
  });

  it('ends a session when its shell exits and hands every attached client the exit status', async () => {
    const a = await openShell(await ssh2Client(laptop), 'attach ending');
    const b = await openShell(await ssh2Client(phone), 'attach ending');
    const exits = Promise.all([exitOf(a), exitOf(b)]);
    new Screen(b);
    a.write('exit 7\n');
    expect(await exits).toEqual([7, 7]);
    const listed = await ssh(agent, laptop, ['sessions', '--json']);
    expect(JSON.parse(listed.stdout).sessions.map((s: { name: string }) => s.name)).not.toContain(
      'ending',
    );
  });

  it('kills a named session on request, and says so when there is none', async () => {
    const a = await openShell(await ssh2Client(laptop), 'attach doomed');
    const exited = exitOf(a);
    new Screen(a);
    const killed = await ssh(agent, phone, ['kill', 'doomed']);
    expect(killed.code).toBe(0);
    expect(await exited).toBe('SIGHUP');
    const missing = await ssh(agent, phone, ['kill', 'doomed']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no session named doomed');
  });

  it('says which session names it takes when `attach` gets one it cannot, not the shell', async () => {
    const r = await ssh(agent, phone, ['attach', 'my', 'session']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid session name: my session (letters, digits, . _ -)');
  });

  it('delivers a large paste to the program intact and in order', async () => {
    const lines = Array.from(
      { length: 4096 },
      (_, i) => `${String(i).padStart(6, '0')} ${'p'.repeat(56)}\n`,
    );
    const paste = lines.join('');
    const expected = createHash('sha256').update(paste).digest('hex');
    const a = await openShell(await ssh2Client(laptop), 'attach paste');
    const screen = new Screen(a);
    // One command line: bash reads no input until it finishes, so the paste goes to head.
    a.write(
      `stty -echo; echo go-$((2+2)); head -c ${paste.length} | sha256sum; echo pasted-$((1+2))\n`,
    );
    await screen.waitFor('go-4');
    a.write(paste);
    await screen.waitFor('pasted-3');
    expect(screen.text).toContain(expected);
    a.close();
  });

  it('records session creation, attach and kill in the audit log', async () => {
    const { logLines } = await import('./helpers.js');
    const sessionEvents = logLines.filter((l) => l.audit === 'session');
    expect(sessionEvents).toContainEqual(
      expect.objectContaining({ action: 'create', session: 'pair' }),
    );
    expect(sessionEvents).toContainEqual(
      expect.objectContaining({ action: 'attach', session: 'pair', device_id: 'phone' }),
    );
    expect(sessionEvents).toContainEqual(
      expect.objectContaining({ action: 'kill', session: 'doomed' }),
    );
  });
});
