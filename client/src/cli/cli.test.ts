import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Workspace } from '@workspace-hub/api';
import { freePort, startIapRelay } from '@workspace-hub/testing';
import * as pty from 'node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LocalHub,
  noIdentityEnv,
  runWsh,
  startLocalHub,
  WSH_MAIN,
} from '../../test/local-hub.js';
import { replaceManagedBlock } from './commands/config-ssh.js';
import { CliError } from './errors.js';
import { verifiedHostKey } from './host-keys.js';

let hub: LocalHub;
let dir: string;
let configDir: string;
let ws: Workspace;

const wsh = (args: string[], env: Record<string, string> = {}) =>
  runWsh(args, { configDir, hub: hub.url, env: { WSH_DEV_EMAIL: 'cli@example.com', ...env } });

beforeAll(async () => {
  hub = await startLocalHub();
  dir = mkdtempSync(join(tmpdir(), 'wsh-cli-'));
  configDir = join(dir, 'config');
  const created = await wsh(['create', '--json']);
  expect(created.code, created.stderr).toBe(0);
  ws = JSON.parse(created.stdout);
});

afterAll(async () => {
  await hub?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("npm start's quick start", () => {
  it('names the workspace as `wsh create` prints it, and says apart what Ctrl-C stops', async () => {
    const logs = hub.logs();
    expect(logs).toContain('npx wsh ssh <workspace> ');
    expect(logs).toMatch(/^Ctrl-C in this terminal stops the hub/m);
    expect((await wsh(['ssh', ws.name, '--', 'echo', 'by-name'])).stdout.trim()).toBe('by-name');
  });
});

describe('wsh errors', () => {
  it('fails with one line naming the flag, and a JSON error with --json', async () => {
    const bad = await wsh(['create', '--zone', 'moon', '--no-wait']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^wsh: --zone: must be a zone like/);
    const json = await wsh(['status', 'ws-aaaaaaaaaa', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'not_found', status: 404 });
  });

  it("names the flag the user typed, not the API's field, keeping the hub's reason", async () => {
    const human = await wsh(['create', '--idle-timeout', '1', '--no-wait']);
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/^wsh: --idle-timeout: .*5/);
    expect(human.stderr).not.toContain('idle_timeout_minutes');
    // Scripts read the hub's own words: the field as the API names it.
    const json = await wsh(['create', '--idle-timeout', '1', '--no-wait', '--json']);
    expect(JSON.parse(json.stdout).error).toMatchObject({
      code: 'invalid_argument',
      status: 400,
      field: 'idle_timeout_minutes',
      message: expect.stringMatching(/^idle_timeout_minutes: /),
    });
  });

  it('rejects unknown options and commands with exit 2', async () => {
    expect((await wsh(['ls', '--frobnicate'])).code).toBe(2);
    expect((await wsh(['frobnicate'])).code).toBe(2);
  });

  it('says how to reach a hub when none is configured', async () => {
    const r = await runWsh(['ls'], { configDir: join(dir, 'nowhere'), hub: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('wsh login');
  });

  it('tells a user with no identity on a local hub to give an email, not to sign in to Google', async () => {
    const r = await runWsh(['ls'], {
      configDir: join(dir, 'no-identity'),
      hub: hub.url,
      env: noIdentityEnv(dir),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('set WSH_DEV_EMAIL');
    expect(r.stderr).not.toContain('gcloud');
    // A hub that does not say it takes dev identities (here: none answers) still gets Google's.
    const elsewhere = await runWsh(['ls'], {
      configDir: join(dir, 'no-identity'),
      hub: `http://127.0.0.1:${await freePort()}`,
      env: noIdentityEnv(dir),
    });
    expect(elsewhere.stderr).toContain('gcloud auth login');
  });

  it('refuses to delete without a terminal unless --yes', async () => {
    const r = await wsh(['rm', ws.id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--yes');
    expect((await wsh(['status', ws.id])).code).toBe(0);
  });

  it('asks before deleting in a terminal, and keeps the workspace on "n"', async () => {
    const term = pty.spawn(process.execPath, [WSH_MAIN, 'rm', ws.id], {
      env: {
        ...process.env,
        WSH_CONFIG_DIR: configDir,
        WSH_HUB: hub.url,
        WSH_DEV_EMAIL: 'cli@example.com',
      } as Record<string, string>,
    });
    let out = '';
    term.onData((d) => {
      out += d;
    });
    const exited = new Promise<number>((r) => term.onExit((e) => r(e.exitCode)));
    while (!out.includes('[y/N]')) await new Promise((r) => setTimeout(r, 50));
    term.write('n\r');
    expect(await exited).toBe(1);
    expect(out).toContain('not deleted');
    expect(JSON.parse((await wsh(['status', ws.id, '--json'])).stdout).workspace.status).toBe(
      'READY',
    );
  });
});

describe('wsh config', () => {
  it('keeps hubs, device id and key owner-only, and writes no token', async () => {
    expect((await wsh(['login', '--dev', 'cli@example.com'])).code).toBe(0);
    expect((await wsh(['keys'])).code).toBe(0);
    for (const name of readdirSync(configDir)) {
      expect((statSync(join(configDir, name)).mode & 0o077).toString(8), name).toBe('0');
      expect(readFileSync(join(configDir, name), 'utf8')).not.toContain('Bearer');
    }
    const config = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8'));
    expect(Object.values(config.hubs)).toEqual([{ url: hub.url, dev_email: 'cli@example.com' }]);
  });

  it('remembers named hubs and uses the one last logged in to', async () => {
    const named = join(dir, 'named');
    const login = await runWsh(
      ['login', '--hub', hub.url, '--name', 'home', '--dev', 'cli@example.com'],
      {
        configDir: named,
        hub: '',
      },
    );
    expect(login.code, login.stderr).toBe(0);
    const env = { WSH_DEV_EMAIL: '' };
    const byName = await runWsh(['ls', '--hub', 'home', '--json'], {
      configDir: named,
      hub: '',
      env,
    });
    expect(JSON.parse(byName.stdout).workspaces.map((w: Workspace) => w.id)).toEqual([ws.id]);
    const current = await runWsh(['ls', '--json'], { configDir: named, hub: '', env });
    expect(JSON.parse(current.stdout).workspaces.map((w: Workspace) => w.id)).toEqual([ws.id]);
  });

  it('uses WSH_DEVICE_ID as the device id and registers its key under it', async () => {
    const r = await wsh(['keys', '--json'], { WSH_DEVICE_ID: 'tablet' });
    const out = JSON.parse(r.stdout);
    expect(out.device_id).toBe('tablet');
    expect(out.keys.map((k: { name: string }) => k.name)).toContain('tablet');
  });
});

describe('host key pinning', () => {
  const scanAgent = async () => ({ host: '127.0.0.1', port: ws.agent?.port ?? 0 });
  const withoutPublicKey = (fingerprint: string): Workspace => ({
    ...ws,
    agent: { ...ws.agent!, host_public_key: null, host_key_fingerprint: fingerprint },
  });

  it('accepts a scanned key only when it matches the fingerprint the hub recorded', async () => {
    const line = await verifiedHostKey(withoutPublicKey(ws.agent!.host_key_fingerprint), scanAgent);
    expect(ws.agent?.host_public_key).toContain(line);
    await expect(
      verifiedHostKey(
        withoutPublicKey('SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
        scanAgent,
      ),
    ).rejects.toThrow(CliError);
  });

  it('refuses a reported key that does not match its fingerprint', async () => {
    const lying = {
      ...ws,
      agent: {
        ...ws.agent!,
        host_public_key:
          'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGsbmXQ5GbEPPbZZFpXaWdZqOTbT+8Sp6O3Q3K3wWnoI',
      },
    };
    await expect(verifiedHostKey(lying, scanAgent)).rejects.toThrow(/does not match/);
  });
});

describe('wsh config-ssh', () => {
  it('writes a managed block that plain ssh can use, idempotently, keeping the rest of the file', async () => {
    const sshConfig = join(dir, 'ssh_config');
    writeFileSync(sshConfig, 'Host example\n  HostName example.com\n');
    const first = await wsh(['config-ssh', '--ssh-config', sshConfig, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ hosts: ['wsh-workspace'], changed: true });
    const text = readFileSync(sshConfig, 'utf8');
    expect(text.startsWith('Host example\n  HostName example.com\n')).toBe(true);
    const again = await wsh(['config-ssh', '--ssh-config', sshConfig, '--json']);
    expect(JSON.parse(again.stdout).changed).toBe(false);
    expect(readFileSync(sshConfig, 'utf8')).toBe(text);

    const out = execFileSync('ssh', ['-F', sshConfig, `wsh-${ws.id}`, 'echo', 'via-config'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out.trim()).toBe('via-config');

    // The same host through `wsh tunnel --stdio` as ProxyCommand (how real hubs are reached).
    const proxied = execFileSync(
      'ssh',
      [
        '-F',
        sshConfig,
        '-o',
        `ProxyCommand=${process.execPath} ${WSH_MAIN} tunnel ${ws.id} --stdio`,
        `wsh-${ws.id}`,
        'echo',
        'via-tunnel',
      ],
      {
        encoding: 'utf8',
        timeout: 20_000,
        env: {
          ...process.env,
          WSH_CONFIG_DIR: configDir,
          WSH_HUB: hub.url,
          WSH_DEV_EMAIL: 'cli@example.com',
        },
      },
    );
    expect(proxied.trim()).toBe('via-tunnel');
  });

  it('replaces only its own block', () => {
    const before =
      'Host a\n\n# ------------START-WSH-HUB h------------\nold\n# ------------END-WSH-HUB h------------\nHost b\n';
    const after = replaceManagedBlock(before, 'h', 'Host new\n');
    expect(after).toContain('Host a\n');
    expect(after).toContain('Host b\n');
    expect(after).toContain('Host new\n');
    expect(after).not.toContain('old');
    expect(replaceManagedBlock(after, 'h', 'Host new\n')).toBe(after);
  });
});

describe('wsh ssh and tunnel', () => {
  it('runs a command over ssh after recording the connection from this device', async () => {
    const r = await wsh(['ssh', ws.id, '--', 'echo', 'over-ssh'], { WSH_DEVICE_ID: 'phone' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('over-ssh');
    const status = JSON.parse((await wsh(['status', ws.id, '--json'])).stdout);
    expect(status.workspace.last_device_id).toBe('phone');
  });

  it('forwards a local port to the agent until interrupted', async () => {
    const proc = spawn(process.execPath, [WSH_MAIN, 'tunnel', ws.id, '--port', '0', '--json'], {
      env: {
        ...process.env,
        WSH_CONFIG_DIR: configDir,
        WSH_HUB: hub.url,
        WSH_DEV_EMAIL: 'cli@example.com',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => proc.once('exit', r));
    while (!out.trim().endsWith('}')) await new Promise((r) => setTimeout(r, 50));
    const { port } = JSON.parse(out);
    const sshConfig = join(dir, 'ssh_config');
    const viaPort = execFileSync(
      'ssh',
      [
        '-F',
        sshConfig,
        '-o',
        'HostName=127.0.0.1',
        '-p',
        String(port),
        `wsh-${ws.id}`,
        'echo',
        'via-port',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(viaPort.trim()).toBe('via-port');
    proc.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('resumes a suspended workspace before connecting', async () => {
    const stopped = await wsh(['stop', ws.id, '--json']);
    expect(JSON.parse(stopped.stdout).status).toBe('SUSPENDED');
    const r = await wsh(['ssh', ws.id, '--', 'echo', 'awake']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('awake');
    expect(r.stderr).toContain('READY');
  });

  it('refuses a session name the agent cannot take, before resuming anything', async () => {
    const stopped = await wsh(['stop', ws.id, '--json']);
    expect(JSON.parse(stopped.stdout).status).toBe('SUSPENDED');
    const r = await wsh(['ssh', ws.id, 'my session']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'wsh: session my session: letters, digits, dot, dash and underscore, at most 64',
    );
    const after = await wsh(['status', ws.id, '--json']);
    expect(JSON.parse(after.stdout).workspace.status).toBe('SUSPENDED');
    expect((await wsh(['start', ws.id])).code).toBe(0);
  });

  it('passes the remote exit status through', async () => {
    // Like ssh, the words after -- form one command line for the remote shell.
    const r = await wsh(['ssh', ws.id, '--', 'sh', '-c', "'exit 7'"]);
    expect(r.code).toBe(7);
  });

  it('extends the deadline of a READY workspace', async () => {
    const before = JSON.parse((await wsh(['status', ws.id, '--json'])).stdout).deadline;
    const r = await wsh(['extend', ws.id, '--minutes', '30', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(Date.parse(JSON.parse(r.stdout).deadline)).toBeGreaterThan(Date.parse(before));
  });

  it('lists what happened, newest first: who or what, from which device, and how it ended', async () => {
    const device = { WSH_DEVICE_ID: 'desk-7' };
    expect((await wsh(['stop', ws.id], device)).code).toBe(0);
    expect((await wsh(['start', ws.id], device)).code).toBe(0);
    const r = await wsh(['events', ws.id, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const steps = JSON.parse(r.stdout).events.slice(0, 4);
    expect(
      steps.map((e: { action: string; outcome: string; actor: object }) => [
        e.action,
        e.outcome,
        e.actor,
      ]),
    ).toEqual([
      ['start', 'succeeded', { kind: 'agent' }],
      ['start', 'accepted', { kind: 'owner', email: 'cli@example.com', device_id: 'desk-7' }],
      [
        'stop',
        'succeeded',
        { kind: 'reconcile', via: 'status-read', instance_status: 'SUSPENDED' },
      ],
      ['stop', 'accepted', { kind: 'owner', email: 'cli@example.com', device_id: 'desk-7' }],
    ]);
    const human = (await wsh(['events', ws.id, '--limit', '4'])).stdout.split('\n');
    expect(human[0]).toMatch(/^WHEN\s+WHO\s+ACTION\s+OUTCOME\s+STATUS\s+REASON$/);
    expect(human[2]).toMatch(
      /cli@example\.com from desk-7\s+start\s+accepted\s+SUSPENDED → RESUMING/,
    );
    expect(human[4]).toMatch(
      /stop\s+accepted\s+READY → SUSPENDING\s+suspended by cli@example\.com from desk-7$/,
    );
  });
});

describe('wsh ssh through the IAP tunnel (as for real hubs)', () => {
  it('reaches the agent via ProxyCommand `wsh tunnel --stdio` and the relay, with the access token', async () => {
    const targets: { instance: string; port: number }[] = [];
    const relay = await startIapRelay({
      token: 'test-access-token',
      resolveTarget: (t) => {
        targets.push({ instance: t.instance, port: t.port });
        return t.instance === ws.instance_name
          ? { host: '127.0.0.1', port: ws.agent!.port! }
          : undefined;
      },
    });
    const tokenFile = join(dir, 'access-token');
    writeFileSync(tokenFile, 'test-access-token\n', { mode: 0o600 });
    try {
      const env = {
        WSH_TRANSPORT: 'iap',
        WSH_IAP_RELAY_URL: relay.url,
        CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: tokenFile,
      };
      const r = await wsh(['ssh', ws.id, '--', 'echo', 'via-iap'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('via-iap');
      // The tunnel asks for the port the agent reported at ready.
      expect(targets).toContainEqual({ instance: ws.instance_name, port: ws.agent!.port! });

      writeFileSync(tokenFile, 'wrong-token\n');
      const refused = await wsh(['ssh', ws.id, '--', 'true'], env);
      expect(refused.code).not.toBe(0);
    } finally {
      await relay.close();
    }
  });
});

describe('workspace names', () => {
  const sshConfig = () => join(dir, 'ssh_config_names');
  const sshVia = (alias: string) =>
    execFileSync('ssh', ['-F', sshConfig(), alias, 'echo', alias], {
      encoding: 'utf8',
      timeout: 20_000,
    }).trim();

  it('lists the name first, and takes it wherever an id is taken', async () => {
    const ls = await wsh(['ls']);
    const [header, row] = ls.stdout.split('\n');
    expect(header).toMatch(/^NAME\s+ID\s+STATUS/);
    expect(row).toMatch(new RegExp(`^workspace\\s+${ws.id}\\s+READY`));
    const json = JSON.parse((await wsh(['ls', '--json'])).stdout);
    expect(json.workspaces).toContainEqual(
      expect.objectContaining({ id: ws.id, name: 'workspace' }),
    );
    const r = await wsh(['ssh', 'workspace', '--', 'echo', 'by-name']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('by-name');
    const stopped = await wsh(['stop', 'workspace', '--json']);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ id: ws.id, status: 'SUSPENDED' });
    const started = await wsh(['start', 'workspace', '--json']);
    expect(JSON.parse(started.stdout)).toMatchObject({ id: ws.id, status: 'READY' });
  });

  it('renames: the new name and its ssh alias work, the old ones go, the pinned host key stays', async () => {
    const first = await wsh(['config-ssh', '--ssh-config', sshConfig(), '--json']);
    expect(JSON.parse(first.stdout).hosts).toEqual(['wsh-workspace']);
    expect(sshVia('wsh-workspace')).toBe('wsh-workspace');
    const knownHosts = readFileSync(join(configDir, 'known_hosts'), 'utf8');

    const renamed = await wsh(['rename', 'workspace', 'renamed', '--json']);
    expect(renamed.code, renamed.stderr).toBe(0);
    expect(JSON.parse(renamed.stdout)).toMatchObject({ id: ws.id, name: 'renamed' });
    const byNew = await wsh(['ssh', 'renamed', '--', 'echo', 'new-name']);
    expect(byNew.code, byNew.stderr).toBe(0);
    expect(byNew.stdout.trim()).toBe('new-name');
    const history = await wsh(['events', 'renamed', '--json']);
    expect(history.code, history.stderr).toBe(0);
    expect(JSON.parse(history.stdout).events.map((e: { action: string }) => e.action)).toContain(
      'stop',
    );
    const byOld = await wsh(['ssh', 'workspace', '--', 'true', '--json']);
    expect(byOld.code).toBe(1);
    expect(byOld.stderr).toMatch(/not found/);
    // Until config-ssh runs again the old alias still reaches the workspace (it points at the id).
    expect(sshVia('wsh-workspace')).toBe('wsh-workspace');

    const again = await wsh(['config-ssh', '--ssh-config', sshConfig(), '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ hosts: ['wsh-renamed'], changed: true });
    const text = readFileSync(sshConfig(), 'utf8');
    expect(text).toContain(`Host wsh-renamed wsh-${ws.id}\n`);
    expect(text).not.toContain('wsh-workspace');
    expect(sshVia('wsh-renamed')).toBe('wsh-renamed');
    // Pinned under the id, so the rename needed no new host key.
    expect(readFileSync(join(configDir, 'known_hosts'), 'utf8')).toBe(knownHosts);
    expect(knownHosts).toMatch(new RegExp(`^wsh-${ws.id} ssh-ed25519 `, 'm'));
  });

  it('creates with a name and deletes by it, which frees the name', async () => {
    const made = await wsh(['create', '--name', 'doomed', '--no-wait', '--json']);
    expect(made.code, made.stderr).toBe(0);
    const doomed = JSON.parse(made.stdout);
    expect(doomed.name).toBe('doomed');
    const taken = await wsh(['create', '--name', 'doomed', '--no-wait']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/^wsh: name: /);
    const rm = await wsh(['rm', 'doomed', '--yes']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toContain(`doomed  ${doomed.id}  deleted`);
    expect((await wsh(['status', 'doomed'])).code).toBe(1);
    const reused = await wsh(['create', '--name', 'doomed', '--no-wait', '--json']);
    expect(reused.code, reused.stderr).toBe(0);
    expect(JSON.parse(reused.stdout).id).not.toBe(doomed.id);
  });
});
