import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type ssh2 from 'ssh2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  connectSsh2,
  type KeyPair,
  makeKey,
  Screen,
  startTestAgent,
  type TestAgent,
  tempDir,
} from './helpers.js';

let agent: TestAgent;
let laptop: KeyPair;

beforeAll(async () => {
  const keysDir = tempDir('vm-agent-keys-');
  laptop = await makeKey(keysDir, 'laptop');
  writeFileSync(join(keysDir, 'authorized_keys'), `${laptop.publicKey}\n`);
  agent = await startTestAgent({ AGENT_AUTHORIZED_KEYS_FILE: join(keysDir, 'authorized_keys') });
});

afterAll(() => agent?.close());

/** Processes whose parent is this process (the agent runs in-process here). */
function children(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const openFds = () => readdirSync('/proc/self/fd').length;

function exec(
  client: ssh2.Client,
  command: string,
  pty: boolean,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    client.exec(
      command,
      pty ? { pty: { rows: 24, cols: 80, term: 'xterm' } } : {},
      (err, stream) => {
        if (err) return reject(err);
        let out = '';
        let code = -1;
        stream.on('data', (d: Buffer) => (out += d));
        stream.stderr.on('data', (d: Buffer) => (out += d));
        stream.on('exit', (c: number) => (code = c));
        stream.on('close', () => resolve({ code, out }));
      },
    );
  });
}

it('creates and kills 50 sessions without leaking processes or file descriptors', async () => {
  const client = await connectSsh2(agent, laptop);
  // Warm up once so lazily opened descriptors (pty helper, logs) are not counted as leaks.
  await exec(client, 'true', false);
  const fdsBefore = openFds();
  const childrenBefore = children();

  const names = Array.from({ length: 50 }, (_, i) => `load-${i}`);
  const channels: ssh2.ClientChannel[] = [];
  for (const name of names) {
    const stream = await new Promise<ssh2.ClientChannel>((resolve, reject) =>
      client.exec(`attach ${name}`, { pty: { rows: 24, cols: 80, term: 'xterm' } }, (err, s) =>
        err ? reject(err) : resolve(s),
      ),
    );
    const screen = new Screen(stream);
    stream.write(`echo ready-${name}-$((1+1))\n`);
    await screen.waitFor(`ready-${name}-2`);
    channels.push(stream);
  }
  const listed = JSON.parse((await exec(client, 'sessions --json', false)).out);
  expect(listed.sessions).toHaveLength(50);
  expect(children().length - childrenBefore.length).toBe(50);

  for (const name of names) expect((await exec(client, `kill ${name}`, false)).code).toBe(0);
  const after = JSON.parse((await exec(client, 'sessions --json', false)).out);
  expect(after.sessions).toEqual([]);
  client.end();

  // Reaping and closing happen on the event loop after the kills complete.
  let fds = openFds();
  for (let i = 0; i < 50 && (fds > fdsBefore || children().length > childrenBefore.length); i++) {
    await new Promise((r) => setTimeout(r, 100));
    fds = openFds();
  }
  expect(children()).toEqual(childrenBefore);
  expect(fds).toBeLessThanOrEqual(fdsBefore);
});
