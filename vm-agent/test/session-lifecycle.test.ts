import { readdirSync, readFileSync } from 'node:fs';
import type ssh2 from 'ssh2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  attachSession,
  connectSsh2,
  execSsh2,
  type KeyPair,
  Screen,
  startAgentForLaptop,
  type TestAgent,
} from './helpers.js';

let agent: TestAgent;
let laptop: KeyPair;

beforeAll(async () => {
  ({ agent, laptop } = await startAgentForLaptop('vm-agent-keys-'));
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

it('creates and kills 50 sessions without leaking processes or file descriptors', async () => {
  const client = await connectSsh2(agent, laptop);
  // Warm up once so lazily opened descriptors (pty helper, logs) are not counted as leaks.
  await execSsh2(client, 'true');
  const fdsBefore = openFds();
  const childrenBefore = children();

  const names = Array.from({ length: 50 }, (_, i) => `load-${i}`);
  const channels: ssh2.ClientChannel[] = [];
  for (const name of names) {
    const stream = await attachSession(client, name);
    const screen = new Screen(stream);
    stream.write(`echo ready-${name}-$((1+1))\n`);
    await screen.waitFor(`ready-${name}-2`);
    channels.push(stream);
  }
  const listed = JSON.parse((await execSsh2(client, 'sessions --json')).out);
  expect(listed.sessions).toHaveLength(50);
  expect(children().length - childrenBefore.length).toBe(50);

  for (const name of names) expect((await execSsh2(client, `kill ${name}`)).code).toBe(0);
  const after = JSON.parse((await execSsh2(client, 'sessions --json')).out);
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
