import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalDriver } from './local-driver.js';

const DRIVER = fileURLToPath(new URL('./local-driver.ts', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'local-driver-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** A process that runs (or is stopped), not one gone or a zombie nobody reaped. */
function isLive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !'ZX'.includes(stat.slice(stat.lastIndexOf(')') + 2)[0]!);
  } catch {
    return false;
  }
}

/** Polls until `check` holds or `ms` have passed; says which. */
async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * A driver with workspace `name` created, its stand-in agent (a sleep that
 * writes its pid next to the home) seen running. Create is `req-<name>`.
 */
async function sleepingWorkspace(name: string, labels: Record<string, string>) {
  const driver = new LocalDriver({
    dataDir,
    agentCommand: ['sh', '-c', 'echo $$ > "$HOME/../test.pid"; exec sleep 600'],
    hubUrl: 'http://127.0.0.1:9',
  });
  const spec = {
    name,
    zone: 'local',
    machineType: 'local',
    diskSizeGb: 10,
    userData: '',
    labels,
    image: 'local',
  };
  await driver.create(spec, `req-${name.replace(/^ws-/, '')}`);
  const dir = join(dataDir, 'workspaces', name);
  const pidFile = join(dir, 'test.pid');
  expect(await eventually(() => existsSync(pidFile), 10_000)).toBe(true);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  const alive = () => existsSync(`/proc/${pid}`);
  return { driver, dir, pidFile, pid, alive };
}

describe('LocalDriver', () => {
  it("keeps an agent's log going to agent.log after the hub process is killed", async () => {
    // A stand-in agent: prints its pid, then a line every 100 ms.
    const agent = 'echo "pid $$"; while :; do echo tick; sleep 0.1; done';
    const hubScript = `
      import { LocalDriver } from ${JSON.stringify(DRIVER)};
      const driver = new LocalDriver({
        dataDir: ${JSON.stringify(dataDir)},
        agentCommand: ['sh', '-c', ${JSON.stringify(agent)}],
        hubUrl: 'http://127.0.0.1:9',
      });
      await driver.create({ name: 'ws-1', zone: 'local', machineType: 'local', diskSizeGb: 10,
        userData: '', labels: {}, image: 'local' }, 'req-1');
      setInterval(() => {}, 1000);
    `;
    const hub = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', hubScript],
      { stdio: 'ignore' },
    );
    const logFile = join(dataDir, 'workspaces', 'ws-1', 'agent.log');
    const ticks = () =>
      (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '').split('tick').length;
    let agentPid = 0;
    try {
      expect(await eventually(() => ticks() > 2, 10_000)).toBe(true);
      agentPid = Number(/pid (\d+)/.exec(readFileSync(logFile, 'utf8'))?.[1]);

      // The hub dies without stopping its workspaces.
      hub.kill('SIGKILL');
      await new Promise((r) => hub.once('exit', r));
      const atDeath = ticks();
      // It used to write into a pipe the hub read: its next line met a closed pipe.
      expect(await eventually(() => ticks() > atDeath + 3, 3000)).toBe(true);
    } finally {
      hub.kill('SIGKILL');
      if (agentPid) {
        try {
          process.kill(agentPid, 'SIGKILL');
        } catch {
          // Already gone (SIGPIPE, with a pipe for its log).
        }
      }
    }
  });

  it('quarantines an orphan: its agent stopped, its home kept and marked, until deleted', async () => {
    const { driver, dir, pid, alive } = await sleepingWorkspace('ws-orphan', {
      'workspace-hub': 'true',
      'workspace-id': 'ws-orphan',
    });
    try {
      writeFileSync(join(dir, 'home', 'work.txt'), 'unsaved work');
      await driver.quarantine('local', 'ws-orphan');
      expect(await eventually(() => !alive(), 5000)).toBe(true);
      expect(readFileSync(join(dir, 'home', 'work.txt'), 'utf8')).toBe('unsaved work');
      expect(existsSync(join(dir, 'quarantined'))).toBe(true);
      expect(await driver.list(['local'], { 'workspace-hub': 'true' })).toEqual([
        expect.objectContaining({
          name: 'ws-orphan',
          status: 'TERMINATED',
          labels: expect.objectContaining({ 'workspace-hub-quarantined': 'true' }),
        }),
      ]);
      await driver.delete('local', 'ws-orphan', 'req-orphan-delete');
      expect(existsSync(dir)).toBe(false);
    } finally {
      if (alive()) process.kill(pid, 'SIGKILL');
      await driver.close();
    }
  });

  it('stops a suspended workspace: its agent woken and ended, its home kept, started again on resume', async () => {
    const { driver, pidFile, pid, alive } = await sleepingWorkspace('ws-limit', {});
    try {
      await driver.suspend('local', 'ws-limit', 'req-limit-suspend');
      expect((await driver.get('local', 'ws-limit'))?.status).toBe('SUSPENDED');
      await driver.stopSuspended('local', 'ws-limit', 'req-limit-stop');
      expect(await eventually(() => !alive(), 5000)).toBe(true);
      expect((await driver.get('local', 'ws-limit'))?.status).toBe('TERMINATED');
      rmSync(pidFile);
      await driver.resume('local', 'ws-limit', 'req-limit-start');
      expect(await eventually(() => existsSync(pidFile), 10_000)).toBe(true);
      expect((await driver.get('local', 'ws-limit'))?.status).toBe('RUNNING');
    } finally {
      if (alive()) process.kill(pid, 'SIGKILL');
      await driver.delete('local', 'ws-limit', 'req-limit-delete');
      await driver.close();
    }
  });

  it('finds the agents a crashed hub left running: status is right, and delete kills and removes them', async () => {
    const agent = ['sh', '-c', 'while :; do sleep 0.2; done'];
    const hubScript = `
      import { LocalDriver } from ${JSON.stringify(DRIVER)};
      const driver = new LocalDriver({
        dataDir: ${JSON.stringify(dataDir)},
        agentCommand: ${JSON.stringify(agent)},
        hubUrl: 'http://127.0.0.1:9',
      });
      await driver.create({ name: 'ws-left', zone: 'local', machineType: 'local', diskSizeGb: 10,
        userData: '', labels: { 'workspace-hub': 'true', 'workspace-id': 'ws-left' }, image: 'local',
        agentEnv: { WORKSPACE_AGENT_TOKEN: 'secret-token-123' } }, 'req-left');
      setInterval(() => {}, 1000);
    `;
    const hub = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', hubScript],
      { stdio: 'ignore' },
    );
    const dir = join(dataDir, 'workspaces', 'ws-left');
    const record = join(dir, 'instance.json');
    let pid = 0;
    const alive = () => pid > 0 && isLive(pid);
    try {
      expect(await eventually(() => existsSync(record), 10_000)).toBe(true);
      pid = JSON.parse(readFileSync(record, 'utf8')).pid;
      // The agent's token never reaches disk.
      expect(readFileSync(record, 'utf8')).not.toContain('secret-token-123');
      hub.kill('SIGKILL');
      await new Promise((r) => hub.once('exit', r));
      expect(alive()).toBe(true);

      // A new hub process over the same data dir.
      const driver = new LocalDriver({
        dataDir,
        agentCommand: agent,
        hubUrl: 'http://127.0.0.1:9',
      });
      expect((await driver.get('local', 'ws-left'))?.status).toBe('RUNNING');
      await driver.suspend('local', 'ws-left', 'req-suspend');
      const stopped = () => readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') T ');
      expect(await eventually(stopped, 5000)).toBe(true);
      const again = new LocalDriver({ dataDir, agentCommand: agent, hubUrl: 'http://127.0.0.1:9' });
      expect((await again.get('local', 'ws-left'))?.status).toBe('SUSPENDED');
      // A retried create is the same create, not a conflict.
      await again.create(
        {
          name: 'ws-left',
          zone: 'local',
          machineType: 'local',
          diskSizeGb: 10,
          userData: '',
          labels: {},
          image: 'local',
        },
        'req-left',
      );
      await again.delete('local', 'ws-left', 'req-delete');
      expect(alive()).toBe(false);
      expect(existsSync(dir)).toBe(false);
      expect(await again.get('local', 'ws-left')).toBeNull();
    } finally {
      hub.kill('SIGKILL');
      if (alive()) process.kill(pid, 'SIGKILL');
    }
  });

  it('never takes a process that reused an agent’s pid for the agent', async () => {
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    const dir = join(dataDir, 'workspaces', 'ws-reused');
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, 'instance.json'),
        JSON.stringify({
          spec: {
            name: 'ws-reused',
            zone: 'local',
            machineType: 'local',
            diskSizeGb: 10,
            labels: { 'workspace-id': 'ws-reused' },
            image: 'local',
          },
          port: 9,
          pid: other.pid,
          requestId: 'req-reused',
        }),
      );
      const driver = new LocalDriver({
        dataDir,
        agentCommand: ['sleep', '30'],
        hubUrl: 'http://127.0.0.1:9',
      });
      // Same command line, but not this workspace's agent (no WORKSPACE_ID in its environment).
      expect((await driver.get('local', 'ws-reused'))?.status).toBe('TERMINATED');
      await driver.delete('local', 'ws-reused', 'req-reused-delete');
      expect(other.exitCode).toBeNull();
      expect(isLive(other.pid!)).toBe(true);
      expect(existsSync(dir)).toBe(false);
    } finally {
      other.kill('SIGKILL');
    }
  });
});
