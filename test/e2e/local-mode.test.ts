import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentProcessesUnder,
  type LocalHub,
  startLocalHub,
  wshAs,
} from '../../client/test/local-hub.js';
import { waitFor, wshTerminal } from './wsh-terminal.js';

/**
 * The whole local mode as a user meets it: a hub spawned from its build, the
 * real `wsh` CLI as two devices (two config dirs, two homes), OpenSSH to the
 * vm-agent processes, terminals driven through a pty.
 */
let hub: LocalHub;
let root: string;
const devices = {
  laptop: { configDir: '', home: '', id: '' },
  desktop: { configDir: '', home: '', id: '' },
};
type Device = keyof typeof devices;

const wsh = (device: Device, args: string[]) => wshAs(devices[device], () => hub.url).run(args);
const wshOk = (device: Device, args: string[]) => wshAs(devices[device], () => hub.url).ok(args);

/** `wsh ssh` in a terminal of its own, as a person would run it. */
function terminal(device: Device, args: string[]) {
  const env = {
    HOME: devices[device].home,
    WSH_CONFIG_DIR: devices[device].configDir,
    WSH_HUB: hub.url,
    WSH_DEV_EMAIL: 'dev@example.com',
  };
  return wshTerminal(args, env, device);
}

function stateOf(pid: number): string {
  // /proc/PID/stat: "pid (comm) S …"; comm may contain spaces, the state follows the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0] ?? '?';
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'wsh-e2e-'));
  for (const name of Object.keys(devices) as Device[]) {
    devices[name].configDir = join(root, name, 'config');
    devices[name].home = join(root, name, 'home');
    mkdirSync(devices[name].home, { recursive: true });
  }
  hub = await startLocalHub();
});

afterAll(async () => {
  await hub?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('local mode end to end', () => {
  it('creates, attaches from two devices, suspends, resumes, syncs settings and deletes without leftovers', async () => {
    for (const name of Object.keys(devices) as Device[]) {
      await wshOk(name, ['login', '--dev', 'dev@example.com']);
      const keys = JSON.parse(await wshOk(name, ['keys', '--json']));
      expect(keys.fingerprint).toMatch(/^SHA256:/);
      devices[name].id = keys.device_id;
    }
    expect(devices.laptop.id).not.toBe(devices.desktop.id);

    const created = JSON.parse(
      await wshOk('laptop', ['create', '--repo', 'https://github.com/acme/app', '--json']),
    );
    const id: string = created.id;
    expect(created.status).toBe('READY');
    expect(created.agent.port).toBeGreaterThan(0);
    const [agentPid] = agentProcessesUnder(hub.dataDir);
    expect(agentPid).toBeGreaterThan(0);

    // Device one: a command in the persistent terminal, then disconnect.
    const first = terminal('laptop', [id]);
    await waitFor('the shell to start', () => first.output().length > 0);
    first.type('echo marker-$((6*7))\r');
    await first.waitFor('marker-42');
    await first.close();

    // Device two re-attaches and sees the earlier output replayed.
    const second = terminal('desktop', [id, 'main']);
    await second.waitFor('marker-42');
    const listed = JSON.parse(await wshOk('laptop', ['sessions', id, '--json']));
    const main = listed.sessions.find((s: { name: string }) => s.name === 'main');
    expect(main.clients.map((c: { device_id: string }) => c.device_id)).toContain(
      devices.desktop.id,
    );
    expect((await wshOk('laptop', ['ls', '--json'])).includes(devices.laptop.id)).toBe(true);

    // Both devices at once see the same terminal.
    const third = terminal('laptop', [id]);
    await third.waitFor('marker-42');
    third.type('echo both-$((2+3))\r');
    await second.waitFor('both-5');
    await third.close();
    await second.close();

    // Suspend (SIGSTOP) and resume: the terminal is still there.
    expect(JSON.parse(await wshOk('laptop', ['stop', id, '--json'])).status).toBe('SUSPENDED');
    expect(stateOf(agentPid!)).toBe('T');
    expect(JSON.parse(await wshOk('laptop', ['start', id, '--json'])).status).toBe('READY');
    const resumed = terminal('desktop', [id]);
    await resumed.waitFor('both-5');
    await resumed.close();

    // Settings travel between devices; a stale push is refused, naming who changed it.
    const settings = join(devices.laptop.home, '.gemini', 'settings.json');
    mkdirSync(join(devices.laptop.home, '.gemini', 'commands'), { recursive: true });
    writeFileSync(settings, '{"theme":"dark"}\n');
    writeFileSync(
      join(devices.laptop.home, '.gemini', 'commands', 'review.toml'),
      'prompt = "review"\n',
    );
    await wshOk('laptop', ['sync', 'push', 'gemini', join(devices.laptop.home, '.gemini')]);
    await wshOk('desktop', ['sync', 'pull', 'gemini']);
    const pulled = join(devices.desktop.home, '.gemini', 'settings.json');
    expect(readFileSync(pulled, 'utf8')).toBe('{"theme":"dark"}\n');
    expect(
      readFileSync(join(devices.desktop.home, '.gemini', 'commands', 'review.toml'), 'utf8'),
    ).toContain('review');

    writeFileSync(pulled, '{"theme":"light"}\n');
    await wshOk('desktop', ['sync', 'push', 'gemini', join(devices.desktop.home, '.gemini')]);
    writeFileSync(settings, '{"theme":"solarized"}\n');
    const conflict = await wsh('laptop', [
      'sync',
      'push',
      'gemini',
      join(devices.laptop.home, '.gemini'),
    ]);
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain('conflict');
    expect(conflict.stderr).toContain(devices.desktop.id);
    expect(conflict.stderr.trim().split('\n')).toHaveLength(1);
    await wshOk('desktop', ['sync', 'pull', 'gemini']);
    expect(readFileSync(pulled, 'utf8')).toBe('{"theme":"light"}\n');
    // Overwriting is explicit.
    await wshOk('laptop', [
      'sync',
      'push',
      'gemini',
      join(devices.laptop.home, '.gemini'),
      '--force',
    ]);
    await wshOk('desktop', ['sync', 'pull', 'gemini']);
    expect(readFileSync(pulled, 'utf8')).toBe('{"theme":"solarized"}\n');

    // Deleting asks first; without a terminal it refuses unless --yes.
    const refused = await wsh('laptop', ['rm', id]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--yes');
    await wshOk('laptop', ['rm', id, '--yes']);
    expect((await wsh('laptop', ['status', id])).code).not.toBe(0);
    await waitFor('agent processes to end', () => agentProcessesUnder(hub.dataDir).length === 0);
    expect(existsSync(join(hub.dataDir, 'workspaces', id))).toBe(false);
    expect(JSON.parse(await wshOk('laptop', ['ls', '--json'])).workspaces).toEqual([]);
  }, 180_000);
});
