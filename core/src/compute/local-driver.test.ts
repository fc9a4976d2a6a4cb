import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalDriver } from './local-driver.js';

const DRIVER = fileURLToPath(new URL('./local-driver.ts', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'local-driver-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Polls until `check` holds or `ms` have passed; says which. */
async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
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
    const driver = new LocalDriver({
      dataDir,
      agentCommand: ['sh', '-c', 'echo $$ > "$HOME/../test.pid"; exec sleep 600'],
      hubUrl: 'http://127.0.0.1:9',
    });
    const spec = {
      name: 'ws-orphan',
      zone: 'local',
      machineType: 'local',
      diskSizeGb: 10,
      userData: '',
      labels: { 'workspace-hub': 'true', 'workspace-id': 'ws-orphan' },
      image: 'local',
    };
    await driver.create(spec, 'req-orphan');
    const dir = join(dataDir, 'workspaces', 'ws-orphan');
    const pidFile = join(dir, 'test.pid');
    expect(await eventually(() => existsSync(pidFile), 10_000)).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const alive = () => existsSync(`/proc/${pid}`);
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
    const driver = new LocalDriver({
      dataDir,
      agentCommand: ['sh', '-c', 'echo $$ > "$HOME/../test.pid"; exec sleep 600'],
      hubUrl: 'http://127.0.0.1:9',
    });
    const spec = {
      name: 'ws-limit',
      zone: 'local',
      machineType: 'local',
      diskSizeGb: 10,
      userData: '',
      labels: {},
      image: 'local',
    };
    await driver.create(spec, 'req-limit');
    const pidFile = join(dataDir, 'workspaces', 'ws-limit', 'test.pid');
    expect(await eventually(() => existsSync(pidFile), 10_000)).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const alive = () => existsSync(`/proc/${pid}`);
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
});
