import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Workspace } from '@workspace-hub/core';
import { freePort } from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAgentConnection } from '../src/agent-link/agent-connection.js';
import { mintConnectionKey } from '../src/agent-link/connection-key.js';
import { type AgentLease, AgentLinkError } from '../src/agent-link/index.js';
import { sftpCalls } from '../src/files/sftp-calls.js';
import { allowAgentWrites } from '../src/files/sftp-write-size.js';
import { type LocalTestHub, startLocalTestHub } from './local-workspaces.js';

/**
 * The hub's SSH connector against real vm-agent processes (local driver): the per-connection
 * key is bound to one user and one workspace, expires, and the agent records user and device.
 */
let t: LocalTestHub;
let a: Workspace;
let b: Workspace;
const ALICE = { sub: 'dev:alice@example.com', email: 'alice@example.com' };

beforeAll(async () => {
  t = await startLocalTestHub();
  [a, b] = await Promise.all([t.readyWorkspace(ALICE.email), t.readyWorkspace(ALICE.email)]);
  const me = await t.api(ALICE.email, 'GET', '/me');
  ALICE.sub = me.body.sub;
}, 60_000);
afterAll(() => t?.close());

function output(channel: NodeJS.ReadableStream) {
  let text = '';
  channel.on('data', (d: Buffer) => {
    text += d.toString('utf8');
  });
  return {
    text: () => text,
    async waitFor(needle: string) {
      for (let i = 0; i < 200 && !text.includes(needle); i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(text).toContain(needle);
    },
  };
}

/** Logs in to `ws`'s agent with a key registered by the test itself, as the hub would. */
async function loginWith(ws: Workspace, registeredFor: Workspace, expiresInMs: number) {
  const pair = mintConnectionKey();
  await t.deps.connectionKeys.register({
    workspace_id: registeredFor.id,
    user_sub: ALICE.sub,
    user_email: ALICE.email,
    device_id: 'browser',
    public_key: pair.publicKey,
    expires_at: new Date(Date.now() + expiresInMs),
  });
  return { pair, connect: () => connectWith(ws, pair.privateKey) };
}

function connectWith(ws: Workspace, privateKey: string) {
  return openAgentConnection(
    { host: '127.0.0.1', port: ws.agent!.port!, hostPublicKey: ws.agent!.host_public_key! },
    { username: ALICE.email, privateKey, readyTimeoutMs: 10_000 },
  );
}

describe('hub → agent connector', () => {
  it('attaches to a session as the user with device "browser", which the agent records', async () => {
    const lease: AgentLease = await t.deps.agentLink.lease(ALICE, a);
    try {
      const channel = await lease.attach('main', { cols: 90, rows: 20 });
      const seen = output(channel);
      channel.write('echo linked-$((6*7))\n');
      await seen.waitFor('linked-42');
      const sessions = await lease.sessions();
      expect(sessions.find((s) => s.name === 'main')).toMatchObject({
        cols: 90,
        rows: 20,
        clients: [{ device_id: 'browser' }],
      });
      channel.end();
    } finally {
      lease.release();
    }
    const audit = readFileSync(join(t.dataDir, 'workspaces', a.id, 'agent.log'), 'utf8');
    expect(audit).toMatch(/"result":"accepted".*"user":"alice@example.com".*"device_id":"browser"/);
    // The key served its login and was withdrawn: the agent is no longer told to accept it.
    expect(await t.deps.connectionKeys.listValid(a.id, new Date())).toEqual([]);
  });

  it('serves a connection key only to its own workspace', async () => {
    const forB = await loginWith(a, b, 60_000);
    await expect(forB.connect()).rejects.toMatchObject({ code: 'permission_denied' });
    const onB = await connectWith(b, forB.pair.privateKey);
    onB.end();
  });

  it('refuses a connection key once it expired', async () => {
    const shortLived = await loginWith(a, a, 1_000);
    await new Promise((r) => setTimeout(r, 1_500));
    await expect(shortLived.connect()).rejects.toMatchObject({ code: 'permission_denied' });
    const fresh = await loginWith(a, a, 60_000);
    (await fresh.connect()).end();
  });

  it('refuses an agent whose host key is not the one it reported at ready', async () => {
    const impostor = { ...a, agent: { ...a.agent!, host_public_key: b.agent!.host_public_key! } };
    const err = await t.deps.agentLink.lease(ALICE, impostor).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentLinkError);
    expect(err).toMatchObject({ code: 'agent_unreachable', message: /host key/ });
  });

  it('says an agent whose port answers nothing cannot be reached, naming where it looked', async () => {
    const port = await freePort();
    const err = await openAgentConnection(
      { host: '127.0.0.1', port, hostPublicKey: a.agent!.host_public_key! },
      { username: ALICE.email, privateKey: mintConnectionKey().privateKey, readyTimeoutMs: 5_000 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentLinkError);
    expect(err).toMatchObject({
      code: 'agent_unreachable',
      message: expect.stringContaining(`127.0.0.1:${port}: connect ECONNREFUSED`),
    });
  });

  it('says a workspace that is not READY is not ready, with its status', async () => {
    const err = await t.deps.agentLink
      .lease(ALICE, { ...a, status: 'SUSPENDED' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'workspace_not_ready', status: 'SUSPENDED' });
  });

  it('shares one pooled connection between leases of the same user and workspace', async () => {
    const [one, two] = await Promise.all([
      t.deps.agentLink.lease(ALICE, b),
      t.deps.agentLink.lease(ALICE, b),
    ]);
    const [x, y] = await Promise.all([one.sessions(), two.sessions()]);
    expect(x).toEqual(y);
    one.release();
    two.release();
    const audit = readFileSync(join(t.dataDir, 'workspaces', b.id, 'agent.log'), 'utf8');
    const browserLogins = audit.match(/"result":"accepted"[^\n]*"device_id":"browser"/g) ?? [];
    // One from the previous test's own login, one for both leases.
    expect(browserLogins.length).toBe(2);
  });

  it('writes a file through SFTP in requests as long as the agent reads, each filling whole SSH packets', async () => {
    const lease = await t.deps.agentLink.lease(ALICE, a);
    const sftp = await lease.sftp();
    try {
      allowAgentWrites(sftp);
      const calls = sftpCalls(sftp);
      const handle = await calls.open('long-writes.bin', 'w');
      const size = calls.writeBytes(handle);
      // The agent's channel packets are 32 KiB: 7 of them, less the WRITE's own 29 bytes.
      expect(size).toBe(7 * 32 * 1024 - 29);
      const data = Buffer.alloc(size, 7);
      // ssh2 numbers each request it sends: one WRITE, not ssh2's default 31,952-byte pieces.
      const internals = sftp as unknown as { _writeReqid: number };
      const before = internals._writeReqid;
      await calls.write(handle, data, 0);
      expect(internals._writeReqid - before).toBe(1);
      await calls.close(handle);
      const home = join(t.dataDir, 'workspaces', a.id, 'home');
      expect(readFileSync(join(home, 'long-writes.bin')).equals(data)).toBe(true);
    } finally {
      sftp.end();
      lease.release();
    }
  });
});
