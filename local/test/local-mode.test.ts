import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AgentTokenStore, createFirestore } from '@workspace-hub/core';
import { type HubConfig, loadConfig, type RunningHub } from '@workspace-hub/hub';
import { freePort } from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startLocalHub } from '../src/hub.js';

const AUTH = { authorization: 'Bearer dev:dana@example.com', 'content-type': 'application/json' };
let hub: RunningHub;
let dataDir: string;
let config: HubConfig;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: AUTH,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

async function waitFor(id: string, status: string) {
  for (let i = 0; i < 300; i++) {
    const r = await api('GET', `/workspaces/${id}/status`);
    if (status === 'GONE' ? r.status === 404 : r.body.workspace?.status === status) return r.body;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`workspace ${id} never became ${status}`);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'local-mode-'));
  config = loadConfig({
    HUB_DRIVER: 'local',
    HUB_AUTH: 'dev',
    PORT: String(await freePort()),
    GOOGLE_CLOUD_PROJECT: `local-${Date.now()}`,
    FIRESTORE_EMULATOR_HOST: inject('firestoreEmulatorHost'),
    HUB_DATA_DIR: dataDir,
  });
  hub = await startLocalHub(config);
  await hub.ready;
});
afterAll(() => hub.close());

describe('local mode: workspaces are vm-agent processes', () => {
  it('creates a reachable agent, suspends it with SIGSTOP, resumes it, and deletes everything', async () => {
    const created = await api('POST', '/workspaces', {});
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    const ready = (await waitFor(id, 'READY')).workspace;
    const home = join(dataDir, 'workspaces', id, 'home');
    expect(existsSync(home)).toBe(true);

    // A real SSH client reaches the agent with a registered key and the pinned host key.
    const keyDir = mkdtempSync(join(tmpdir(), 'hub-local-key-'));
    execFileSync('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-f',
      join(keyDir, 'id'),
      '-C',
      'laptop',
    ]);
    expect(
      (
        await api('PUT', '/me/keys/laptop', {
          public_key: readFileSync(join(keyDir, 'id.pub'), 'utf8'),
        })
      ).status,
    ).toBe(200);
    const knownHosts = join(keyDir, 'known_hosts');
    execFileSync('sh', [
      '-c',
      `echo "[127.0.0.1]:${ready.agent.port} ${ready.agent.host_public_key}" > ${knownHosts}`,
    ]);
    // Asynchronously: the hub answering the agent's key lookup runs in this process.
    const sshArgs = [
      '-F',
      '/dev/null',
      '-i',
      join(keyDir, 'id'),
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-p',
      String(ready.agent.port),
    ];
    const ssh = async (cmd: string) =>
      (
        await promisify(execFile)('ssh', [...sshArgs, '127.0.0.1', cmd], {
          encoding: 'utf8',
          timeout: 20_000,
        })
      ).stdout;
    expect(await ssh('echo hello from $(pwd)')).toBe(`hello from ${home}\n`);

    // The agent runs on this machine: `ssh -L` must not reach the hub or the emulator on it.
    const emulatorPort = inject('firestoreEmulatorHost').split(':').pop();
    for (const port of [new URL(hub.url).port, emulatorPort]) {
      // stdin closed at once: a forward that opened ends as soon as the service hangs up.
      const forward = spawn('ssh', [...sshArgs, '-W', `127.0.0.1:${port}`, '127.0.0.1']);
      forward.stdin.end();
      let stderr = '';
      forward.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise((r) => forward.on('close', r));
      const forwarded = { code, stderr };
      expect(forwarded).toMatchObject({ code: 255, stderr: expect.stringMatching(/open failed/) });
    }

    expect((await api('POST', `/workspaces/${id}/stop`)).body.status).toBe('SUSPENDING');
    await waitFor(id, 'SUSPENDED');
    const pid = Number(
      execFileSync(
        'sh',
        [
          '-c',
          `grep -l "AGENT_HOME=${home}" /proc/[0-9]*/environ 2>/dev/null | head -1 | cut -d/ -f3`,
        ],
        { encoding: 'utf8' },
      ).trim(),
    );
    expect(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0]).toBe('T');

    expect((await api('POST', `/workspaces/${id}/start`)).body.status).toBe('RESUMING');
    await waitFor(id, 'READY');
    expect(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0]).not.toBe('T');
    expect(await ssh('echo still here')).toBe('still here\n');

    const agentToken = readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .find((v) => v.startsWith('WORKSPACE_AGENT_TOKEN='))
      ?.slice('WORKSPACE_AGENT_TOKEN='.length);
    expect(agentToken).toBeTruthy();
    process.env.FIRESTORE_EMULATOR_HOST = config.FIRESTORE_EMULATOR_HOST;
    const tokens = new AgentTokenStore(
      createFirestore(config.GOOGLE_CLOUD_PROJECT, config.FIRESTORE_EMULATOR_HOST),
    );
    expect(await tokens.verify(id, agentToken!)).toBe(true);

    expect((await api('DELETE', `/workspaces/${id}`)).status).toBe(202);
    await waitFor(id, 'GONE');
    // The deleted workspace's agent credential is revoked, not just unused.
    expect(await tokens.verify(id, agentToken!)).toBe(false);
    const heartbeat = await fetch(`${hub.url}/agent/heartbeat`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${agentToken}`,
        'x-workspace-id': id,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        workspace_id: id,
        last_activity_at: new Date().toISOString(),
        sessions: 0,
        attached_devices: [],
      }),
    });
    expect([401, 403]).toContain(heartbeat.status);
    expect(existsSync(join(dataDir, 'workspaces', id))).toBe(false);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });

  it('a hub started again over the same data dir finds a running agent: status READY, and delete ends it', async () => {
    const id = (await api('POST', '/workspaces', {})).body.id as string;
    await waitFor(id, 'READY');
    const home = join(dataDir, 'workspaces', id, 'home');
    const pid = JSON.parse(readFileSync(join(dataDir, 'workspaces', id, 'instance.json'), 'utf8'))
      .pid as number;

    // The first hub is gone for this workspace (as after a crash); a new one starts over the same
    // emulator project and data dir, with a driver that knows nothing but what is on disk.
    const first = hub;
    const second = await startLocalHub({ ...config, PORT: await freePort() });
    await second.ready;
    hub = second;
    try {
      const status = await api('GET', `/workspaces/${id}/status`);
      expect(status.body.workspace.status).toBe('READY');
      expect((await api('DELETE', `/workspaces/${id}`)).status).toBe(202);
      await waitFor(id, 'GONE');
      expect(existsSync(home)).toBe(false);
      const state = () => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0];
      expect(!existsSync(`/proc/${pid}`) || state() === 'Z').toBe(true);
    } finally {
      hub = first;
      await second.close();
    }
  });
});
