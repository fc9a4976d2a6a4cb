import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  exited,
  type KeyPair,
  makeKey,
  ssh,
  sshArgs,
  startTestAgent,
  type TestAgent,
  tempDir,
} from './helpers.js';

let agent: TestAgent;
let laptop: KeyPair;
let desktop: KeyPair;
const spawned: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  const keysDir = tempDir('vm-agent-keys-');
  laptop = await makeKey(keysDir, 'laptop');
  desktop = await makeKey(keysDir, 'desktop');
  const authorized = join(keysDir, 'authorized_keys');
  writeFileSync(authorized, `${laptop.publicKey}\n${desktop.publicKey}\n`);
  // A short grace keeps the test quick; the default (5 s) is the same code path.
  agent = await startTestAgent({
    AGENT_AUTHORIZED_KEYS_FILE: authorized,
    AGENT_STALLED_CLIENT_SECONDS: '1',
  });
});

afterAll(async () => {
  for (const p of spawned) {
    p.kill('SIGCONT');
    p.kill('SIGKILL');
  }
  await agent?.close();
});

/**
 * OpenSSH `ssh -tt … attach NAME`; keeps only the tail of what it printed (the flood below
 * is megabytes) and resolves `waitFor` once a marker shows up there.
 */
function attachWithSsh(key: KeyPair, session: string) {
  const proc = spawn('ssh', [...sshArgs(agent, key, ['-tt']), 'dev@127.0.0.1', 'attach', session]);
  spawned.push(proc);
  let tail = '';
  let waiters: { marker: string; resolve: () => void }[] = [];
  proc.stdout.on('data', (d: Buffer) => {
    tail = (tail + d.toString('latin1')).slice(-64 * 1024);
    waiters = waiters.filter((w) => {
      if (!tail.includes(w.marker)) return true;
      w.resolve();
      return false;
    });
  });
  return {
    proc,
    tail: () => tail,
    waitFor(marker: string, ms = 20_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no "${marker}" within ${ms} ms; tail: ${tail.slice(-300)}`)),
          ms,
        );
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        if (tail.includes(marker)) done();
        else waiters.push({ marker, resolve: done });
      });
    },
    type: (text: string) => proc.stdin.write(text),
  };
}

it('keeps a session going for an ssh client when another one stops reading, and tells that one it was detached', async () => {
  const working = attachWithSsh(laptop, 'shared');
  working.type('echo both-$((20+22))\n');
  await working.waitFor('both-42');
  const suspended = attachWithSsh(desktop, 'shared');
  await suspended.waitFor('both-42'); // the replay: it is attached
  working.type('echo attached-$((1+1))\n');
  await suspended.waitFor('attached-2');

  suspended.proc.kill('SIGSTOP'); // Ctrl-Z on the desktop: it reads nothing any more
  // Megabytes: more than its SSH window, TCP buffers and the agent's channel buffer hold.
  working.type('yes 0123456789abcdef | head -c 16000000\n');
  working.type('echo typed-after-the-stall-$((6*7))\n');
  await working.waitFor('typed-after-the-stall-42');

  const listed = await ssh(agent, laptop, ['sessions', '--json']);
  const shared = JSON.parse(listed.stdout).sessions.find(
    (s: { name: string }) => s.name === 'shared',
  );
  expect(shared.clients.map((c: { device_id: string }) => c.device_id)).toEqual(['laptop']);

  suspended.proc.kill('SIGCONT');
  await suspended.waitFor('[detached from session shared: took no output for 1 s');
  await exited(suspended.proc);
  expect(suspended.tail()).not.toContain('typed-after-the-stall-42');

  // Nothing lost: attaching again replays the scrollback, the typed command included.
  const again = attachWithSsh(desktop, 'shared');
  await again.waitFor('typed-after-the-stall-42');
  again.proc.kill('SIGTERM');
  working.proc.kill('SIGTERM');
  await Promise.all([exited(again.proc), exited(working.proc)]);
}, 60_000);
