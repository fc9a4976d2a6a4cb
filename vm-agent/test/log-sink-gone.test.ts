import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exited,
  FakeHub,
  type KeyPair,
  launchAgent,
  makeKey,
  runProgram,
  sshArgs,
  tempDir,
} from './helpers.js';

let dir: string;
let laptop: KeyPair;

beforeAll(async () => {
  dir = tempDir('vm-agent-orphan-');
  laptop = await makeKey(dir, 'laptop');
  writeFileSync(join(dir, 'authorized_keys'), `${laptop.publicKey}\n`);
});

/** CPU time (user + system, in clock ticks) the process has used so far. */
function cpuTicks(pid: number): number {
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
}

const CLOCK_TICKS_PER_SECOND = 100;

describe('an agent whose hub went away', () => {
  let hub: FakeHub;
  afterAll(() => hub?.close());

  it('keeps serving ssh with its log pipe closed, stays idle, and stops on SIGTERM', async () => {
    hub = new FakeHub();
    await hub.start();
    const home = join(dir, 'home');
    // In local mode the hub spawns the agent with its stdout and stderr on pipes it reads.
    const agent = launchAgent({
      AGENT_PORT: '0',
      AGENT_LISTEN_HOST: '127.0.0.1',
      AGENT_HOME: home,
      AGENT_AUTHORIZED_KEYS_FILE: join(dir, 'authorized_keys'),
      AGENT_HEARTBEAT_SECONDS: '1',
      HUB_URL: hub.url,
      WORKSPACE_ID: 'ws-orphan',
      WORKSPACE_AGENT_TOKEN: 'local-token',
    });
    try {
      await agent.out.waitFor('vm-agent ready');
      const port = Number(/"port":(\d+)/.exec(agent.out.text)?.[1]);
      const hostKey = ssh2.utils.parseKey(
        readFileSync(join(home, '.vm-agent', 'ssh_host_ed25519_key'), 'utf8'),
      ) as ssh2.ParsedKey;
      const knownHosts = join(dir, 'known_hosts');
      writeFileSync(
        knownHosts,
        `[127.0.0.1]:${port} ${hostKey.type} ${hostKey.getPublicSSH().toString('base64')}\n`,
      );
      // A stuck agent must fail the test, not hang it: ConnectTimeout covers the handshake.
      const echo = (word: string) =>
        runProgram('ssh', [
          ...sshArgs({ port, knownHosts }, laptop, ['-o', 'ConnectTimeout=5']),
          'dev@127.0.0.1',
          'echo',
          word,
        ]);
      expect((await echo('before')).stdout).toBe('before\n');

      // The hub dies: its end of the log pipes closes and its HTTP server is gone.
      await hub.close();
      agent.child.stdout?.destroy();
      agent.child.stderr?.destroy();

      // Every login writes audit lines into the broken pipe.
      expect((await echo('after')).stdout).toBe('after\n');
      expect((await echo('again')).stdout).toBe('again\n');

      // An idle agent uses next to no CPU (0 ticks here); one looping on EPIPE
      // takes all it can get (0.65 s of these 2 on a loaded 2-core machine).
      const pid = agent.child.pid as number;
      const before = cpuTicks(pid);
      await new Promise((r) => setTimeout(r, 2000));
      const used = (cpuTicks(pid) - before) / CLOCK_TICKS_PER_SECOND;
      expect(used).toBeLessThan(0.2);

      agent.child.kill('SIGTERM');
      const code = await exited(agent.child);
      expect({ code, signal: agent.child.signalCode }).toEqual({ code: 0, signal: null });
    } finally {
      agent.child.kill('SIGKILL');
    }
  });
});
