import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import type ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attachSession,
  connectSsh2,
  execSsh2,
  exited,
  type KeyPair,
  Screen,
  ssh,
  sshArgs,
  startAgentForLaptop,
  type TestAgent,
} from '../../vm-agent/test/helpers.js';

/**
 * Load one agent holds: many connections open at once, many persistent
 * sessions. Handshakes are started a few at a time (IN_FLIGHT), so the test
 * measures what the agent holds, not how fast a loaded machine can start them.
 */
const CONNECTIONS = 200;
const OPENSSH_CONNECTIONS = 40;
const SESSIONS = 100;
const IN_FLIGHT = 10;
const TIMEOUT = 240_000;

let agent: TestAgent;
let laptop: KeyPair;

beforeAll(async () => {
  ({ agent, laptop } = await startAgentForLaptop('fault-load-'));
});

afterAll(() => agent?.close());

/** Runs `task(i)` for i in [0, count) with at most `limit` running at once. */
async function pooled<T>(count: number, limit: number, task: (i: number) => Promise<T>) {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

/** Types a sum into a session's shell and waits for the shell's answer. */
async function echoThrough(channel: ssh2.ClientChannel, marker: string): Promise<void> {
  const screen = new Screen(channel);
  channel.write(`echo ${marker}-$((40+2))\n`);
  await screen.waitFor(`${marker}-42`);
}

/** Real OpenSSH, multiplexing off, held open by `cat` until its stdin closes. */
async function openSshHeld(i: number): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(
    'ssh',
    [
      ...sshArgs(agent, laptop, ['-o', 'ControlMaster=no', '-o', 'ControlPath=none']),
      'dev@127.0.0.1',
      `echo openssh-${i}-up; cat`,
    ],
    { stdio: 'pipe' },
  );
  const out = new Screen(child.stdout);
  const err = new Screen(child.stderr);
  const ended = exited(child).then((code) => {
    throw new Error(`ssh ${i} exited ${code} before answering: ${err.text}`);
  });
  await Promise.race([out.waitFor(`openssh-${i}-up\n`), ended]);
  ended.catch(() => {});
  return child;
}

describe('load on one agent', () => {
  it(
    `holds ${CONNECTIONS} connections open at once (${OPENSSH_CONNECTIONS} of them OpenSSH), each authenticated and running commands`,
    async () => {
      const libraryCount = CONNECTIONS - OPENSSH_CONNECTIONS;
      const clients = await pooled(libraryCount, IN_FLIGHT, async (i) => {
        const client = await connectSsh2(agent, laptop);
        expect(await execSsh2(client, `echo ssh2-${i}-up`)).toEqual({
          code: 0,
          out: `ssh2-${i}-up\n`,
        });
        return client;
      });
      const held = await pooled(OPENSSH_CONNECTIONS, IN_FLIGHT, openSshHeld);

      // All 200 are open now: every one of them still answers a second command.
      const again = await pooled(libraryCount, IN_FLIGHT, (i) =>
        execSsh2(clients[i]!, `echo again-${i}`),
      );
      expect(again.filter((r, i) => r.code !== 0 || r.out !== `again-${i}\n`)).toEqual([]);
      expect(held.filter((c) => c.exitCode !== null)).toEqual([]);

      for (const child of held) child.stdin.end();
      const codes = await Promise.all(held.map((c) => exited(c)));
      expect(codes.filter((c) => c !== 0)).toEqual([]);
      for (const client of clients) client.end();

      // Still responsive to a fresh OpenSSH connection once the crowd has gone.
      const after = await ssh(agent, laptop, ['echo', 'still-here']);
      expect(after).toMatchObject({ code: 0, stdout: 'still-here\n' });
    },
    TIMEOUT,
  );

  it(
    `keeps ${SESSIONS} persistent sessions: each created, answering, and answering again after reattaching`,
    async () => {
      const client = await connectSsh2(agent, laptop);
      const names = Array.from({ length: SESSIONS }, (_, i) => `fault-${i}`);
      await pooled(SESSIONS, IN_FLIGHT, async (i) => {
        const channel = await attachSession(client, names[i]!);
        await echoThrough(channel, `first-${i}`);
        channel.close();
      });

      const listed = await ssh(agent, laptop, ['sessions', '--json']);
      expect(listed.code).toBe(0);
      const sessions = (JSON.parse(listed.stdout) as { sessions: { name: string }[] }).sessions;
      expect(sessions.map((s) => s.name).sort()).toEqual([...names].sort());

      // Detached sessions are still alive: a new connection reattaches to each and it answers.
      const second = await connectSsh2(agent, laptop);
      await pooled(SESSIONS, IN_FLIGHT, async (i) => {
        const channel = await attachSession(second, names[i]!);
        await echoThrough(channel, `second-${i}`);
        channel.close();
      });
      client.end();

      const kills = await pooled(SESSIONS, IN_FLIGHT, (i) => execSsh2(second, `kill ${names[i]}`));
      expect(kills.filter((k) => k.code !== 0)).toEqual([]);
      expect(JSON.parse((await execSsh2(second, 'sessions --json')).out)).toEqual({ sessions: [] });
      second.end();

      const after = await ssh(agent, laptop, ['echo', 'still-here']);
      expect(after).toMatchObject({ code: 0, stdout: 'still-here\n' });
    },
    TIMEOUT,
  );
});
