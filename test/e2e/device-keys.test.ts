import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Workspace } from '@workspace-hub/core';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalHub, runWsh, startLocalHub } from '../../client/test/local-hub.js';

/**
 * Device keys as the agent sees them: a key the hub has just accepted logs in
 * at once, a deleted one is refused within the documented bound (vm-agent
 * README: 5 s), and unknown keys cannot turn into a flood of hub calls.
 */
const REVOCATION_BOUND_MS = 5_000;
const EMAIL = 'keys@example.com';

const run = promisify(execFile);
let hub: LocalHub;
let root: string;
let ws: Workspace;

function device(name: string) {
  const home = join(root, name);
  mkdirSync(home, { recursive: true });
  const configDir = join(home, 'config');
  return {
    configDir,
    home,
    wsh: (args: string[]) =>
      runWsh(args, { configDir, hub: hub.url, env: { HOME: home, WSH_DEV_EMAIL: EMAIL } }),
  };
}

/** Calls the agents made to the hub's authorized-keys route so far, from the hub's request log. */
const keyListCalls = () =>
  hub
    .logs()
    .split('\n')
    .filter((l) => l.includes('"GET /agent/authorized-keys ')).length;

beforeAll(async () => {
  hub = await startLocalHub();
  root = mkdtempSync(join(tmpdir(), 'wsh-keys-'));
  const first = device('first');
  const created = await first.wsh(['create', '--json']);
  expect(created.code, created.stderr).toBe(0);
  ws = JSON.parse(created.stdout);
  // The first device connects, so the agent holds a list of keys without the others'.
  const r = await first.wsh(['ssh', ws.id, '--', 'echo', 'first']);
  expect(r.code, r.stderr).toBe(0);
}, 90_000);

afterAll(async () => {
  await hub?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('a new device', () => {
  it('gets in with its first `wsh ssh`, right after another device', async () => {
    const second = device('second');
    const r = await second.wsh(['ssh', ws.id, '--', 'echo', 'second']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('second');
  });

  it('gets in with plain OpenSSH right after `wsh config-ssh`', async () => {
    const third = device('third');
    const sshConfig = join(third.home, 'ssh_config');
    const r = await third.wsh(['config-ssh', '--ssh-config', sshConfig, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { stdout } = await run('ssh', ['-F', sshConfig, `wsh-${ws.id}`, 'echo', 'third'], {
      timeout: 20_000,
    });
    expect(stdout.trim()).toBe('third');
  });
});

describe('a deleted key', () => {
  it('is refused once the documented bound has passed', async () => {
    const gone = device('gone');
    const sshConfig = join(gone.home, 'ssh_config');
    const configured = await gone.wsh(['config-ssh', '--ssh-config', sshConfig, '--json']);
    expect(configured.code, configured.stderr).toBe(0);
    const ssh = () =>
      run('ssh', ['-F', sshConfig, '-o', 'BatchMode=yes', `wsh-${ws.id}`, 'echo', 'gone'], {
        timeout: 20_000,
      });
    expect((await ssh()).stdout.trim()).toBe('gone');

    const keys = JSON.parse((await gone.wsh(['keys', '--json'])).stdout);
    const res = await fetch(`${hub.url}/me/keys/${keys.device_id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer dev:${EMAIL}` },
    });
    expect(res.status).toBe(204);
    await new Promise((r) => setTimeout(r, REVOCATION_BOUND_MS + 500));
    await expect(ssh()).rejects.toMatchObject({
      stderr: expect.stringContaining('Permission denied (publickey)'),
    });
  });
});

describe('unknown keys', () => {
  /** One SSH connection offering a fresh key the hub has never seen; resolves when refused. */
  const offerUnknownKey = (port: number) =>
    new Promise<string>((resolve) => {
      const privateKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
        .privateKey.export({ type: 'sec1', format: 'pem' })
        .toString();
      const conn = new ssh2.Client();
      conn
        .on('ready', () => {
          conn.end();
          resolve('accepted');
        })
        .on('error', (err) => resolve(err.message))
        .connect({
          host: '127.0.0.1',
          port,
          username: 'attacker',
          privateKey,
          readyTimeout: 60_000,
        });
    });

  it('in a burst of 100 connections cause a bounded number of hub calls', async () => {
    const port = ws.agent?.port;
    if (!port) throw new Error('the agent reported no port');
    const before = keyListCalls();
    const results = await Promise.all(Array.from({ length: 100 }, () => offerUnknownKey(port)));
    expect(results.filter((r) => r === 'accepted')).toEqual([]);
    expect(results.every((r) => /authentication methods failed/.test(r))).toBe(true);
    const calls = keyListCalls() - before;
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(10);
  }, 120_000);
});
